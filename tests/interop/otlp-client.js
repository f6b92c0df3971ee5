// Sends known telemetry with the OpenTelemetry JS SDK exporters (clients we did not write) to an OTLP endpoint.
//
// usage: node otlp-client.js <traces|metrics|logs> <grpc|proto|json> <url>
//   grpc  -> @opentelemetry/exporter-*-otlp-grpc (grpc-js), url like http://127.0.0.1:4317
//   proto -> @opentelemetry/exporter-*-otlp-proto (HTTP/protobuf), url like http://127.0.0.1:4318/v1/traces
//   json  -> @opentelemetry/exporter-*-otlp-http (HTTP/JSON), url like http://127.0.0.1:4318/v1/traces
// Prints one JSON line describing what was sent (ids of spans/log records), exits 0 once the export succeeded.
'use strict';
const { resourceFromAttributes } = require('@opentelemetry/resources');

const [signal, transport, url] = process.argv.slice(2);
const exporterPackage = { grpc: 'grpc', proto: 'proto', json: 'http' }[transport];
if (!exporterPackage || !url) {
  console.error('usage: node otlp-client.js <traces|metrics|logs> <grpc|proto|json> <url>');
  process.exit(2);
}
const resource = resourceFromAttributes({
  'service.name': `js-client-${transport}`,
  'service.version': '5.4.3',
  'deployment.environment': 'interop',
});
const exporterOptions = { url, timeoutMillis: 20000 };

function exporterFor(kind) {
  const pkg = require(`@opentelemetry/exporter-${kind}-otlp-${exporterPackage}`);
  const name = { trace: 'OTLPTraceExporter', metrics: 'OTLPMetricExporter', logs: 'OTLPLogExporter' }[kind];
  return new pkg[name](exporterOptions);
}

// Wraps an exporter so failed exports are remembered (processors swallow them otherwise).
function recording(exporter, failures) {
  return {
    export: (items, done) => exporter.export(items, result => {
      if (result.code !== 0) failures.push(String(result.error));
      done(result);
    }),
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush(),
  };
}

async function sendTraces() {
  const { BasicTracerProvider, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');
  const api = require('@opentelemetry/api');
  const failures = [];
  const processor = new SimpleSpanProcessor(recording(exporterFor('trace'), failures));
  const provider = new BasicTracerProvider({ resource, spanProcessors: [processor] });
  const tracer = provider.getTracer('interop.js', '1.0.1');
  const linked = { traceId: 'aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbb', spanId: 'cccccccccccccccc', traceFlags: 1 };
  const sent = [];
  const parent = tracer.startSpan('POST /v1/completions', {
    kind: api.SpanKind.SERVER,
    attributes: { 'http.request.method': 'POST', 'gen_ai.usage.output_tokens': 128, 'gen_ai.request.top_p': 0.9, 'stream': true, 'stop': ['a', 'b'] },
  });
  parent.addEvent('first_token', { 'token.index': 0 });
  parent.setStatus({ code: api.SpanStatusCode.ERROR, message: 'overloaded' });
  const ctx = api.trace.setSpan(api.context.active(), parent);
  for (let i = 0; i < 3; i++) {
    const child = tracer.startSpan(`infer-${i}`, { kind: api.SpanKind.CLIENT, attributes: { attempt: i }, links: [{ context: linked, attributes: { 'link.kind': 'retry-of' } }] }, ctx);
    child.setStatus({ code: api.SpanStatusCode.OK });
    child.end();
    sent.push({ traceId: child.spanContext().traceId, spanId: child.spanContext().spanId, parentSpanId: parent.spanContext().spanId, name: `infer-${i}` });
  }
  parent.end();
  sent.push({ traceId: parent.spanContext().traceId, spanId: parent.spanContext().spanId, parentSpanId: '', name: 'POST /v1/completions' });
  await provider.forceFlush();
  await provider.shutdown();
  return { failures, spans: sent };
}

async function sendMetrics() {
  const { MeterProvider, PeriodicExportingMetricReader } = require('@opentelemetry/sdk-metrics');
  const reader = new PeriodicExportingMetricReader({ exporter: exporterFor('metrics'), exportIntervalMillis: 600000 });
  const provider = new MeterProvider({ resource, readers: [reader] });
  const meter = provider.getMeter('interop.js.meter', '0.3.0');
  const counter = meter.createCounter('inference.requests', { unit: '{request}', description: 'Requests served' });
  counter.add(5, { model: 'llama-3' });
  counter.add(2, { model: 'mistral' });
  const histogram = meter.createHistogram('inference.latency', { unit: 'ms' });
  histogram.record(12.5, { model: 'llama-3' });
  histogram.record(80, { model: 'llama-3' });
  await provider.forceFlush();
  await provider.shutdown();
  return { failures: [] };
}

async function sendLogs() {
  const { LoggerProvider, SimpleLogRecordProcessor } = require('@opentelemetry/sdk-logs');
  const failures = [];
  const processor = new SimpleLogRecordProcessor({ exporter: recording(exporterFor('logs'), failures) });
  const provider = new LoggerProvider({ resource, processors: [processor] });
  const logger = provider.getLogger('interop.js.logger', '2.0.0');
  logger.emit({ severityNumber: 13, severityText: 'WARN', body: 'model llama-3 answered slowly', attributes: { 'latency.ms': 412, model: 'llama-3' } });
  logger.emit({ severityNumber: 9, severityText: 'INFO', body: 'plain message' });
  await provider.forceFlush();
  await provider.shutdown();
  return { failures };
}

const run = { traces: sendTraces, metrics: sendMetrics, logs: sendLogs }[signal];
if (!run) { console.error(`unknown signal ${signal}`); process.exit(2); }
run().then(result => {
  console.log(JSON.stringify(result));
  process.exit(result.failures.length === 0 ? 0 : 1);
}, error => { console.error(error); process.exit(1); });
