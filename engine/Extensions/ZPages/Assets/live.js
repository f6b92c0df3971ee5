// otelai live page: the pipeline graph with live rates (GET /api/v1/graph, server-sent events from
// /api/v1/stream), a component's config and errors (/api/v1/components/...), and a tap (/api/v1/tap).
// Streams are read with fetch, not EventSource, so a bearer token can be sent as a header.
"use strict";

const NODE_W = 210, NODE_H = 74, COL_GAP = 80, ROW_GAP = 22, PAD = 16, HISTORY = 60;
const svgNs = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);

let graph = null;
const history = new Map(); // node id -> recent out rates
let lastStats = null;
let selected = null;
let tapAbort = null;

function token() { return sessionStorage.getItem("otelai.token"); }

async function api(path, init = {}) {
  const headers = new Headers(init.headers || {});
  if (token()) headers.set("Authorization", "Bearer " + token());
  const response = await fetch(path, { ...init, headers });
  if (response.status === 401) {
    await askToken();
    return api(path, init);
  }
  return response;
}

function askToken() {
  return new Promise((resolve) => {
    const dialog = $("token-dialog");
    dialog.addEventListener("close", () => {
      sessionStorage.setItem("otelai.token", $("token-input").value.trim());
      resolve();
    }, { once: true });
    if (!dialog.open) dialog.showModal();
  });
}

// Reads a server-sent event stream from a fetch response; calls onEvent(name, data) per event.
async function readEvents(response, onEvent, signal) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  while (!signal || !signal.aborted) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = "message", data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) name = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      }
      if (data) onEvent(name, JSON.parse(data));
    }
  }
}

function el(name, attrs = {}, text) {
  const node = document.createElementNS(svgNs, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function fmtRate(v) {
  if (v >= 1e6) return (v / 1e6).toFixed(1) + "M";
  if (v >= 1e4) return (v / 1e3).toFixed(0) + "k";
  if (v >= 1e3) return (v / 1e3).toFixed(1) + "k";
  return v >= 10 ? v.toFixed(0) : v.toFixed(1);
}

function fmtBytes(v) {
  const units = ["B", "KiB", "MiB", "GiB"];
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return v.toFixed(i ? 1 : 0) + " " + units[i];
}

function fmtDuration(seconds) {
  seconds = Math.floor(seconds);
  const h = Math.floor(seconds / 3600), m = Math.floor(seconds % 3600 / 60), s = seconds % 60;
  return h ? `${h}h${m}m` : m ? `${m}m${s}s` : `${s}s`;
}

// Columns by longest path from a source; exporters in the last column; rows in pipeline order.
function layout(g) {
  const depth = new Map(g.nodes.map((n) => [n.id, 0]));
  for (let pass = 0; pass < g.nodes.length; pass++) {
    let changed = false;
    for (const e of g.edges) {
      const d = depth.get(e.from) + 1;
      if (d > depth.get(e.to)) { depth.set(e.to, d); changed = true; }
    }
    if (!changed) break;
  }
  const maxDepth = Math.max(0, ...depth.values());
  for (const n of g.nodes) if (n.kind === "exporter") depth.set(n.id, maxDepth);
  const columns = [];
  for (const n of g.nodes) (columns[depth.get(n.id)] ||= []).push(n);
  const positions = new Map();
  let height = 0;
  columns.forEach((column, c) => {
    (column || []).forEach((n, r) => {
      positions.set(n.id, { x: PAD + c * (NODE_W + COL_GAP), y: PAD + r * (NODE_H + ROW_GAP) });
      height = Math.max(height, PAD * 2 + (r + 1) * (NODE_H + ROW_GAP));
    });
  });
  return { positions, width: PAD * 2 + columns.length * (NODE_W + COL_GAP) - COL_GAP, height };
}

function drawGraph() {
  const svg = $("graph");
  svg.replaceChildren();
  const { positions, width, height } = layout(graph);
  svg.setAttribute("width", Math.max(width, 300));
  svg.setAttribute("height", Math.max(height, 120));
  for (const e of graph.edges) {
    const a = positions.get(e.from), b = positions.get(e.to);
    const x1 = a.x + NODE_W, y1 = a.y + NODE_H / 2, x2 = b.x, y2 = b.y + NODE_H / 2;
    const mid = (x1 + x2) / 2;
    const path = el("path", { class: "edge", d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`, "data-from": e.from, "data-to": e.to });
    path.appendChild(el("title", {}, e.pipeline));
    svg.appendChild(path);
  }
  for (const n of graph.nodes) {
    const p = positions.get(n.id);
    const g = el("g", { class: "node", transform: `translate(${p.x},${p.y})`, "data-id": n.id, "data-component": n.component, tabindex: "0" });
    g.appendChild(el("rect", { class: "box", width: NODE_W, height: NODE_H }));
    g.appendChild(el("rect", { class: "status ok", x: 0, y: 8, width: 4, height: NODE_H - 16 }));
    g.appendChild(el("text", { class: "kind", x: 12, y: 16 }, n.kind + (n.pipeline ? " · " + n.pipeline : "")));
    g.appendChild(el("text", { class: "name", x: 12, y: 34 }, n.component.slice(n.kind.length + 1)));
    g.appendChild(el("text", { class: "rates", x: 12, y: 52 }, "– /s in → – /s out"));
    g.appendChild(el("text", { class: "extra", x: 12, y: 67 }, ""));
    g.appendChild(el("polyline", { class: "spark", points: "" }));
    g.addEventListener("click", () => select(n));
    g.addEventListener("keydown", (ev) => { if (ev.key === "Enter") select(n); });
    svg.appendChild(g);
  }
  const options = $("tap-component");
  options.replaceChildren();
  for (const name of [...new Set(graph.nodes.map((n) => n.component))]) {
    const option = document.createElement("option");
    option.value = option.textContent = name;
    options.appendChild(option);
  }
}

function updateGraph(stats) {
  const byId = new Map(stats.nodes.map((n) => [n.id, n]));
  for (const g of document.querySelectorAll("#graph g.node")) {
    const s = byId.get(g.dataset.id);
    if (!s) continue;
    g.querySelector("text.rates").textContent = `${fmtRate(s.in_rate)} /s in → ${fmtRate(s.out_rate)} /s out`;
    g.dataset.inRate = s.in_rate;
    g.dataset.outRate = s.out_rate;
    const extras = [];
    if (s.dropped_total) extras.push(`dropped ${s.dropped_total}`);
    if (s.failed_total) extras.push(`failed ${s.failed_total}`);
    if (s.refused_total) extras.push(`refused ${s.refused_total}`);
    if (s.send_failed_total) extras.push(`send failed ${s.send_failed_total}`);
    if (s.queue_capacity > 0) extras.push(`queue ${s.queue_size}/${s.queue_capacity}`);
    if (s.latency_ms) extras.push(`${s.latency_ms} ms`);
    if (s.retries_total) extras.push(`retries ${s.retries_total}`);
    if (s.recent_errors) extras.push(`${s.recent_errors} warnings`);
    g.querySelector("text.extra").textContent = extras.join(" · ");
    g.querySelector("rect.status").setAttribute("class", "status " + s.status);
    const h = history.get(s.id) || [];
    h.push(Math.max(s.in_rate, s.out_rate));
    if (h.length > HISTORY) h.shift();
    history.set(s.id, h);
    const max = Math.max(1, ...h);
    const points = h.map((v, i) => `${NODE_W - 8 - (h.length - 1 - i) * 1.2},${30 - v / max * 20}`).join(" ");
    g.querySelector("polyline.spark").setAttribute("points", points);
  }
  for (const path of document.querySelectorAll("#graph path.edge")) {
    const from = byId.get(path.dataset.from);
    path.classList.toggle("flowing", !!from && from.out_rate > 0);
  }
}

function updateHeader(stats) {
  const state = $("state");
  state.textContent = stats.state;
  state.className = "badge " + (stats.state === "Running" ? "running" : "");
  const p = stats.process;
  $("p-uptime").textContent = fmtDuration(stats.uptime_seconds);
  $("p-cpu").textContent = p.cpu_percent.toFixed(1) + " %";
  $("p-rss").textContent = fmtBytes(p.rss_bytes);
  $("p-heap").textContent = fmtBytes(p.heap_bytes);
  $("p-gc").textContent = p.gc_pause_percent.toFixed(2) + " %";
  $("p-gcs").textContent = p.gc_collections.join(" / ");
}

function updatePanels(stats) {
  const host = $("panels");
  host.replaceChildren();
  for (const panel of stats.panels) {
    const div = document.createElement("div");
    div.className = "panel";
    div.dataset.component = panel.component;
    const h = document.createElement("h2");
    h.textContent = `${panel.title} · ${panel.component}`;
    div.appendChild(h);
    const fields = document.createElement("div");
    fields.className = "fields";
    for (const f of panel.fields) {
      const span = document.createElement("span");
      span.append(f.name + " ");
      const b = document.createElement("b");
      b.textContent = f.value;
      span.appendChild(b);
      fields.appendChild(span);
    }
    div.appendChild(fields);
    for (const t of panel.tables) {
      const caption = document.createElement("h3");
      caption.textContent = t.title;
      div.appendChild(caption);
      div.appendChild(table(t.columns, t.rows));
    }
    host.appendChild(div);
  }
}

function table(columns, rows) {
  const tableEl = document.createElement("table");
  const head = tableEl.insertRow();
  for (const c of columns) {
    const th = document.createElement("th");
    th.textContent = c;
    head.appendChild(th);
  }
  for (const r of rows) {
    const row = tableEl.insertRow();
    for (const cell of r) row.insertCell().textContent = cell;
  }
  return tableEl;
}

function updateDetailsNumbers() {
  if (!selected || !lastStats) return;
  const s = lastStats.nodes.find((n) => n.id === selected.id);
  if (!s) return;
  const names = { in_total: "in", out_total: "out", in_rate: "in /s", out_rate: "out /s", failed_total: "failed", refused_total: "refused",
    dropped_total: "dropped", sent_total: "sent", send_failed_total: "send failed", enqueue_failed_total: "enqueue failed",
    queue_size: "queue size", queue_capacity: "queue capacity", retries_total: "retries", latency_ms: "request latency (ms)" };
  const rows = Object.entries(names).filter(([k]) => k in s).map(([k, label]) => [label, String(s[k])]);
  $("details-numbers").replaceChildren(...table(["", ""], rows).rows);
}

async function select(node) {
  selected = node;
  for (const g of document.querySelectorAll("#graph g.node")) g.classList.toggle("selected", g.dataset.id === node.id);
  const response = await api("/api/v1/components/" + node.component);
  const detail = await response.json();
  $("details").hidden = false;
  $("details-title").textContent = node.component;
  $("details-status").textContent = `status: ${detail.status}${detail.status_message ? " — " + detail.status_message : ""} · pipelines: ${detail.pipelines.join(", ")}`;
  $("config").textContent = detail.config;
  const errors = $("errors");
  errors.replaceChildren();
  for (const e of detail.recent_errors) {
    const li = document.createElement("li");
    li.textContent = `${e.time.slice(11, 19)} ${e.level}: ${e.message}`;
    errors.appendChild(li);
  }
  if (!detail.recent_errors.length) errors.innerHTML = '<li class="muted">none</li>';
  updateDetailsNumbers();
}

// One line for a tapped item: its name (span, metric) or body (log record) and its first attributes.
function describe(request) {
  const value = (v) => v ? (v.stringValue ?? v.intValue ?? v.doubleValue ?? v.boolValue ?? JSON.stringify(v)) : "";
  const attrs = (list) => (list || []).slice(0, 6).map((a) => `${a.key}=${value(a.value)}`).join("  ");
  const rs = request.resourceSpans?.[0], rm = request.resourceMetrics?.[0], rl = request.resourceLogs?.[0];
  if (rs) {
    const span = rs.scopeSpans[0].spans[0];
    const status = span.status?.code === 2 ? " [ERROR]" : "";
    return `span "${span.name}"${status}  ${attrs(span.attributes)}`;
  }
  if (rm) {
    const metric = rm.scopeMetrics[0].metrics[0];
    const data = metric.gauge || metric.sum || metric.histogram || metric.exponentialHistogram || metric.summary;
    const point = data.dataPoints[0];
    return `metric "${metric.name}" ${point.asDouble ?? point.asInt ?? point.count ?? ""}  ${attrs(point.attributes)}`;
  }
  const log = rl.scopeLogs[0].logRecords[0];
  return `log ${log.severityText || ""} ${value(log.body)}  ${attrs(log.attributes)}`;
}

async function startTap(event) {
  event.preventDefault();
  stopTap();
  const params = new URLSearchParams({ component: $("tap-component").value });
  const where = $("tap-where").value.trim();
  if (where) params.set("where", where);
  const abort = new AbortController();
  tapAbort = abort;
  $("tap-items").replaceChildren();
  $("tap-start").disabled = true;
  $("tap-stop").disabled = false;
  $("tap-status").textContent = "opening…";
  let shown = 0;
  try {
    const response = await api("/api/v1/tap?" + params, { signal: abort.signal });
    if (!response.ok) {
      const body = await response.json();
      $("tap-status").textContent = `${response.status}: ${body.error}`;
      return;
    }
    $("tap-status").textContent = "tapping (at most a few items per second)";
    await readEvents(response, (name, data) => {
      if (name === "open") return;
      const item = document.createElement("div");
      item.className = "tap-item";
      const head = document.createElement("div");
      head.className = "head";
      head.innerHTML = `<b></b> <span></span>`;
      head.querySelector("b").textContent = data.component + (data.pipeline ? " @ " + data.pipeline : "");
      head.querySelector("span").textContent = `${data.time ? data.time.slice(11, 23) : ""} ${data.signal || ""} ${data.error || ""}`;
      item.appendChild(head);
      const line = document.createElement("div");
      line.className = "summary";
      line.textContent = data.item ? describe(data.item) : data.summary || "";
      item.appendChild(line);
      if (data.item) {
        const details = document.createElement("details");
        details.innerHTML = "<summary>OTLP/JSON</summary>";
        const pre = document.createElement("pre");
        pre.textContent = JSON.stringify(data.item, null, 1);
        details.appendChild(pre);
        item.appendChild(details);
      }
      const list = $("tap-items");
      list.prepend(item);
      while (list.children.length > 100) list.lastChild.remove();
      $("tap-status").textContent = `${++shown} items shown`;
    }, abort.signal);
  } catch (e) {
    if (e.name !== "AbortError") $("tap-status").textContent = "tap ended: " + e.message;
  } finally {
    if (tapAbort === abort) {
      $("tap-start").disabled = false;
      $("tap-stop").disabled = true;
    }
  }
}

function stopTap() {
  if (tapAbort) tapAbort.abort();
  tapAbort = null;
  $("tap-start").disabled = false;
  $("tap-stop").disabled = true;
}

async function stream() {
  for (;;) {
    try {
      const response = await api("/api/v1/stream");
      await readEvents(response, (name, stats) => {
        if (name !== "stats") return;
        lastStats = stats;
        updateHeader(stats);
        updateGraph(stats);
        updatePanels(stats);
        updateDetailsNumbers();
      });
    } catch (e) {
      // The collector restarted or the connection dropped: say so and try again.
    }
    $("state").textContent = "disconnected";
    $("state").className = "badge down";
    await new Promise((r) => setTimeout(r, 2000));
  }
}

async function main() {
  $("details-close").addEventListener("click", () => { $("details").hidden = true; selected = null; });
  $("details-tap").addEventListener("click", () => {
    if (!selected) return;
    $("tap-component").value = selected.component;
    $("tap-where").focus();
    $("tap-form").scrollIntoView({ behavior: "smooth" });
  });
  $("tap-form").addEventListener("submit", startTap);
  $("tap-stop").addEventListener("click", stopTap);
  graph = await (await api("/api/v1/graph")).json();
  drawGraph();
  stream();
}

main();
