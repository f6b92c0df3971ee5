// Drives the zpages live page in real headless Chromium (Debian's, through playwright-core) as an operator would:
// enters the bearer token, waits for live rates to appear and change, checks the graph, opens a node's config, runs a
// filtered tap, and saves a screenshot. Prints one JSON line of what it saw; exits 1 with the reason on failure.
// usage: node live-page.mjs URL TOKEN COMPONENTS(comma-separated) CONFIG_NODE TAP_COMPONENT TAP_WHERE SCREENSHOT
import { chromium } from "playwright-core";

const [url, token, components, configNode, tapComponent, tapWhere, screenshot] = process.argv.slice(2);
const seen = { pageErrors: [] };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
  page.on("pageerror", (e) => seen.pageErrors.push(e.message));
  await page.goto(url);

  // The API answers 401 until the token is given in the page's dialog.
  await page.waitForSelector("#token-dialog[open]", { timeout: 15000 });
  await page.fill("#token-input", token);
  await page.click("#token-save");

  // Every configured component is drawn.
  await page.waitForSelector("#graph g.node", { timeout: 15000 });
  seen.nodes = await page.$$eval("#graph g.node", (nodes) => nodes.map((n) => n.dataset.component));
  for (const expected of components.split(",")) {
    if (!seen.nodes.includes(expected)) throw new Error(`graph lacks ${expected}; has ${seen.nodes.join(", ")}`);
  }

  // Live rates appear and change without a reload.
  const receiverRate = () => page.$eval('#graph g.node[data-id^="receiver/"]', (n) => Number(n.dataset.outRate || 0));
  const rates = [];
  for (let i = 0; i < 40 && (rates.length < 2 || new Set(rates).size < 2 || rates.every((r) => r === 0)); i++) {
    await page.waitForTimeout(500);
    const rate = await receiverRate();
    if (rate > 0) rates.push(rate);
  }
  seen.rates = rates;
  if (rates.length < 2 || new Set(rates).size < 2) throw new Error(`receiver rates did not appear and change: ${JSON.stringify(rates)}`);
  seen.rateText = await page.$eval('#graph g.node[data-id^="receiver/"] text.rates', (t) => t.textContent);

  // A node's effective config, secrets redacted.
  await page.click(`#graph g.node[data-component="${configNode}"]`);
  await page.waitForFunction(() => document.querySelector("#config").textContent.length > 0, null, { timeout: 10000 });
  seen.config = await page.$eval("#config", (pre) => pre.textContent);
  seen.detailsTitle = await page.$eval("#details-title", (h) => h.textContent);

  // A filtered tap shows only matching items.
  await page.selectOption("#tap-component", tapComponent);
  await page.fill("#tap-where", tapWhere);
  await page.click("#tap-start");
  await page.waitForFunction(() => document.querySelectorAll("#tap-items .tap-item").length >= 3, null, { timeout: 20000 });
  seen.tapItems = await page.$$eval("#tap-items .tap-item pre", (pres) => pres.map((p) => p.textContent));
  seen.tapStatus = await page.$eval("#tap-status", (s) => s.textContent);
  await page.click("#tap-stop");

  seen.panels = await page.$$eval("#panels .panel", (panels) => panels.map((p) => p.dataset.component));
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(JSON.stringify(seen));
} catch (error) {
  console.log(JSON.stringify(seen));
  console.error(error.message);
  process.exitCode = 1;
} finally {
  await browser.close();
}
