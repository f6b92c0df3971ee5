// OTLP/gRPC server on grpc-js (a gRPC implementation we did not write), loading the opentelemetry-proto files
// shipped in @opentelemetry/otlp-grpc-exporter-base@0.34.0. Used by the exporter tests as a real backend.
//
// usage: node grpc-js-server.js <port> [--fail=<code>:<count>[:<retryDelayMs>]] [--partial=<rejected>:<message>] [--delay=<ms>]
//   --fail     answer the first <count> calls with gRPC status <code> (with RetryInfo when retryDelayMs is given)
//   --partial  answer OK with partial_success {rejected, message}
//   --delay    wait <ms> before answering each call (a slow backend)
// Prints "LISTENING <port>" once bound, then one JSON line per call:
//   {"service": "...", "status": <code>, "metadata": {...}, "request": <OTLP message, protobuf JSON mapping>}
'use strict';
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const port = Number(process.argv[2]);
const options = Object.fromEntries(process.argv.slice(3).map(a => a.replace(/^--/, '').split(/=(.*)/s).slice(0, 2)));
let failuresLeft = 0, failCode = 0, failRetryDelayMs = null;
if (options.fail) {
  const [code, count, delay] = options.fail.split(':');
  failCode = Number(code);
  failuresLeft = Number(count);
  failRetryDelayMs = delay === undefined ? null : Number(delay);
}

const protoRoot = path.join(path.dirname(require.resolve('otlp-protos/package.json')), 'build', 'protos');
const files = ['trace', 'metrics', 'logs'].map(s => `opentelemetry/proto/collector/${s}/v1/${s}_service.proto`);
const definition = protoLoader.loadSync(files, {
  includeDirs: [protoRoot],
  keepCase: false, longs: String, enums: Number, bytes: String, defaults: false, oneofs: false,
});

// Minimal protobuf writers for what the 0.34 protos lack: partial_success (field 1) and google.rpc.Status.
function varint(n) {
  const out = [];
  let v = BigInt(n);
  do { let b = Number(v & 0x7fn); v >>= 7n; if (v > 0n) b |= 0x80; out.push(b); } while (v > 0n);
  return Buffer.from(out);
}
function field(number, wireType, payload) {
  const tag = varint((number << 3) | wireType);
  return wireType === 2 ? Buffer.concat([tag, varint(payload.length), payload]) : Buffer.concat([tag, payload]);
}
function partialSuccessResponse(rejected, message) {
  const inner = Buffer.concat([field(1, 0, varint(rejected)), field(2, 2, Buffer.from(message, 'utf8'))]);
  return field(1, 2, inner);
}
function retryInfoStatus(code, message, delayMs) {
  const duration = Buffer.concat([field(1, 0, varint(Math.floor(delayMs / 1000))), field(2, 0, varint((delayMs % 1000) * 1e6))]);
  const retryInfo = field(1, 2, duration);
  const any = Buffer.concat([field(1, 2, Buffer.from('type.googleapis.com/google.rpc.RetryInfo')), field(2, 2, retryInfo)]);
  return Buffer.concat([field(1, 0, varint(code)), field(2, 2, Buffer.from(message, 'utf8')), field(3, 2, any)]);
}

function serviceDefinition(signal, serviceName) {
  const pkg = `opentelemetry.proto.collector.${signal}.v1`;
  const method = definition[`${pkg}.${serviceName}`].Export;
  return {
    Export: {
      ...method,
      // Responses are written by hand so that partial_success (absent from these protos) can be sent.
      responseSerialize: buffer => buffer,
    },
  };
}

function handler(serviceName) {
  const answer = answerCall(serviceName);
  const delayMs = Number(options.delay || 0);
  return (call, callback) => (delayMs > 0 ? setTimeout(() => answer(call, callback), delayMs) : answer(call, callback));
}

function answerCall(serviceName) {
  return (call, callback) => {
    let status = 0;
    if (failuresLeft > 0) {
      failuresLeft--;
      status = failCode;
    }
    const metadata = {};
    for (const [k, v] of Object.entries(call.metadata.getMap())) metadata[k] = Buffer.isBuffer(v) ? v.toString('base64') : String(v);
    process.stdout.write(JSON.stringify({ service: serviceName, status, metadata, request: call.request }) + '\n');
    if (status !== 0) {
      const md = new grpc.Metadata();
      if (failRetryDelayMs !== null) md.set('grpc-status-details-bin', retryInfoStatus(status, 'test failure', failRetryDelayMs));
      callback({ code: status, details: `test failure ${status} – retry later`, metadata: md });
      return;
    }
    if (options.partial) {
      const [rejected, message] = options.partial.split(/:(.*)/s);
      callback(null, partialSuccessResponse(Number(rejected), message));
      return;
    }
    callback(null, Buffer.alloc(0));
  };
}

const server = new grpc.Server();
server.addService(serviceDefinition('trace', 'TraceService'), { Export: handler('TraceService') });
server.addService(serviceDefinition('metrics', 'MetricsService'), { Export: handler('MetricsService') });
server.addService(serviceDefinition('logs', 'LogsService'), { Export: handler('LogsService') });
server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => {
  if (err) {
    process.stderr.write(`bind failed: ${err.message}\n`);
    process.exit(1);
  }
  process.stdout.write(`LISTENING ${bound}\n`);
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
