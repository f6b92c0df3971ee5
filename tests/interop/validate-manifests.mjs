// Validates Kubernetes manifests (a multi-document YAML on stdin, e.g. `kubectl kustomize DIR`) against the
// official OpenAPI schemas through kubernetes-models: each document becomes the model class of its apiVersion and
// kind and runs its schema validation. Prints one JSON line (the kinds seen); exits 1 with every problem listed.
import { parseAllDocuments } from "yaml";

const input = await new Promise((resolve) => {
  let text = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk) => (text += chunk));
  process.stdin.on("end", () => resolve(text));
});

const problems = [];
const kinds = [];
for (const document of parseAllDocuments(input)) {
  if (document.errors.length) {
    problems.push(...document.errors.map((e) => `YAML: ${e.message}`));
    continue;
  }
  const object = document.toJS();
  if (!object) continue;
  const { apiVersion, kind } = object;
  const where = `${kind} ${object.metadata?.name ?? "?"}`;
  let models;
  try {
    models = await import(`kubernetes-models/${apiVersion}`);
  } catch {
    problems.push(`${where}: unknown apiVersion ${apiVersion}`);
    continue;
  }
  const Model = models[kind];
  if (!Model) {
    problems.push(`${where}: ${apiVersion} has no kind ${kind}`);
    continue;
  }
  try {
    new Model(object).validate();
    kinds.push(`${apiVersion}/${kind}/${object.metadata?.name}`);
  } catch (error) {
    problems.push(`${where}: ${error.message}${error.errors ? " " + JSON.stringify(error.errors) : ""}`);
  }
}
console.log(JSON.stringify({ kinds, problems }));
if (problems.length) process.exitCode = 1;
