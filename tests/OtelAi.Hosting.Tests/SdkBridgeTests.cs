using System.Diagnostics;
using System.Diagnostics.Metrics;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using OtelAi.Engine;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.TestSupport;

namespace OtelAi.Hosting.Tests;

/// <summary>
/// The in-process bridge against the SDK's own OTLP exporter: one provider feeds both (the bridge into the collector's
/// inprocess receiver, the OTLP exporter over gRPC into its otlp receiver), and what reaches the two pipelines must
/// be the same messages, field for field.
/// </summary>
public sealed class SdkBridgeTests : IAsyncLifetime
{
    private readonly CaptureExporterFactory _bridge = new("bridgecapture");
    private readonly CaptureExporterFactory _sdk = new("sdkcapture");
    private readonly int _otlpPort = TestPorts.GetFree();
    private Collector _collector = null!;

    public async Task InitializeAsync()
    {
        var registry = _bridge.WithBuiltins().Add(_sdk).Add(new InProcessReceiverFactory());
        _collector = Collector.FromYaml($"""
            receivers:
              inprocess:
              otlp:
                protocols:
                  grpc:
                    endpoint: 127.0.0.1:{_otlpPort}
            exporters:
              bridgecapture:
              sdkcapture:
            service:
              telemetry:
                metrics:
                  level: none
              pipelines:
                traces/bridge: {Pipeline("inprocess", "bridgecapture")}
                traces/sdk: {Pipeline("otlp", "sdkcapture")}
                metrics/bridge: {Pipeline("inprocess", "bridgecapture")}
                metrics/sdk: {Pipeline("otlp", "sdkcapture")}
                logs/bridge: {Pipeline("inprocess", "bridgecapture")}
                logs/sdk: {Pipeline("otlp", "sdkcapture")}
            """, registry, new CollectorOptions { LoggerFactory = Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance });
        await _collector.StartAsync();
    }

    public async Task DisposeAsync() => await _collector.DisposeAsync();

    private static string Pipeline(string receiver, string exporter) => $"{{receivers: [{receiver}], exporters: [{exporter}]}}";

    private static ResourceBuilder Resource() => ResourceBuilder.CreateDefault()
        .AddService("inference-api", serviceVersion: "1.4.0", serviceInstanceId: "pod-7")
        .AddAttributes([new("gpu.count", 2L), new("deployment.environment.name", "test"), new("host.arch", "amd64")]);

    private Uri OtlpEndpoint => new($"http://127.0.0.1:{_otlpPort}");

    [Fact]
    public async Task Spans_equal_the_sdk_otlp_exporters_field_for_field()
    {
        using var source = new ActivitySource("bridge.test", "1.2.3", [new("scope.team", "inference"), new("scope.shard", 3)]);
        using var plain = new ActivitySource("bridge.plain");
        using (var provider = Sdk.CreateTracerProviderBuilder()
                   .SetResourceBuilder(Resource())
                   .AddSource(source.Name, plain.Name)
                   .AddOtelAiExporter(_collector)
                   .AddOtlpExporter(o => { o.Endpoint = OtlpEndpoint; o.Protocol = OtlpExportProtocol.Grpc; })
                   .Build())
        {
            using (var root = source.StartActivity("POST /v1/chat/completions", ActivityKind.Server)!)
            {
                root.SetTag("http.request.method", "POST");
                root.SetTag("http.response.status_code", 500);
                root.SetTag("gen_ai.usage.input_tokens", 1234L);
                root.SetTag("sampled.short", (short)7);
                root.SetTag("sampled.byte", (byte)8);
                root.SetTag("sampled.uint", 9u);
                root.SetTag("ratio.float", 0.25f);
                root.SetTag("ratio.double", 0.125);
                root.SetTag("flag", true);
                root.SetTag("letter", 'x');
                root.SetTag("big", 18446744073709551615UL);
                root.SetTag("money", 12.50m);
                root.SetTag("kind.enum", DayOfWeek.Tuesday);
                root.SetTag("nothing", null);
                root.SetTag("models", new[] { "llama-3", "mistral" });
                root.SetTag("ports", new[] { 80, 443 });
                root.SetTag("sizes", new[] { 1L, 2L });
                root.SetTag("weights", new[] { 0.5, 1.5 });
                root.SetTag("switches", new[] { true, false });
                root.SetTag("mixed", new object?[] { "a", 1, null, 2.5 });
                root.SetTag("digest", new byte[] { 1, 2, 3 });
                root.SetTag("gen_ai.request.parameters", new Dictionary<string, object?> { ["temperature"] = 0.7, ["max_tokens"] = 256, ["stop"] = new[] { "\n" } });
                root.AddEvent(new ActivityEvent("gen_ai.choice", DateTimeOffset.UtcNow, new ActivityTagsCollection { ["index"] = 0, ["finish_reason"] = "stop" }));
                root.AddLink(new ActivityLink(new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded, "vendor=abc", isRemote: true),
                    new ActivityTagsCollection { ["link.reason"] = "retry" }));
                root.SetStatus(ActivityStatusCode.Error, "model overloaded");

                using (var child = source.StartActivity("vllm generate", ActivityKind.Client)!)
                {
                    child.SetTag("otel.status_code", "ERROR");
                    child.SetTag("otel.status_description", "timeout talking to the GPU worker");
                }
                using (var ok = plain.StartActivity("tokenize", ActivityKind.Producer)!) ok.SetStatus(ActivityStatusCode.Ok, "ignored for OK");
                using (var unsetByTag = plain.StartActivity("cache lookup")!) unsetByTag.SetTag("otel.status_code", "UNSET");
            }
            var remoteParent = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded, "congo=t61rcWkgMzE", isRemote: true);
            using (var consumer = source.StartActivity("consume batch", ActivityKind.Consumer, remoteParent)!) consumer.TraceStateString = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7";
            provider.ForceFlush();
        }

        try
        {
            await _bridge.Traces.WaitForItemsAsync(5, TimeSpan.FromSeconds(10));
            await _sdk.Traces.WaitForItemsAsync(5, TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            Assert.Fail($"bridge: {string.Join(", ", Spans(_bridge.Traces.Payloads).Values.Select(v => ((Otlp.Proto.Trace.V1.Span)v.Span).Name))}; sdk: {string.Join(", ", Spans(_sdk.Traces.Payloads).Values.Select(v => ((Otlp.Proto.Trace.V1.Span)v.Span).Name))}");
        }
        var expected = Spans(_sdk.Traces.Payloads);
        var actual = Spans(_bridge.Traces.Payloads);
        Assert.Equal(5, expected.Count);
        Assert.Equal(expected.Select(s => s.Key), actual.Select(s => s.Key));
        foreach (var (key, (resource, scope, span)) in expected)
        {
            var (bridgeResource, bridgeScope, bridgeSpan) = actual[key];
            Assert.Equal(resource.ToString(), bridgeResource.ToString());
            Assert.Equal(scope.ToString(), bridgeScope.ToString());
            Assert.Equal(span.ToString(), bridgeSpan.ToString());
            Assert.Equal(span, bridgeSpan);
        }
    }

    [Fact]
    public async Task Metrics_equal_the_sdk_otlp_exporters_field_for_field()
    {
        using var meter = new Meter("bridge.meter", "2.0.1", [new("meter.owner", "platform")]);
        var requests = meter.CreateCounter<long>("inference.requests", "{request}", "Requests served");
        var tokens = meter.CreateCounter<double>("inference.tokens");
        var inflight = meter.CreateUpDownCounter<int>("inference.inflight");
        var latency = meter.CreateHistogram<double>("inference.latency", "ms");
        var payload = meter.CreateHistogram<long>("inference.payload", "By");
        var queue = meter.CreateGauge<long>("inference.queue.depth");
        meter.CreateObservableGauge("gpu.memory.used", () => new Measurement<double>(40512.5, new KeyValuePair<string, object?>("gpu", "0")));
        using (var provider = Sdk.CreateMeterProviderBuilder()
                   .SetResourceBuilder(Resource())
                   .AddMeter(meter.Name)
                   .AddView(payload.Name, new Base2ExponentialBucketHistogramConfiguration())
                   .SetExemplarFilter(ExemplarFilterType.AlwaysOn)
                   .AddOtelAiExporter(_collector, new OtelAiExporterOptions { MetricExportIntervalMilliseconds = 600_000 })
                   .AddOtlpExporter((exporter, reader) =>
                   {
                       exporter.Endpoint = OtlpEndpoint;
                       exporter.Protocol = OtlpExportProtocol.Grpc;
                       reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 600_000;
                   })
                   .Build())
        {
            requests.Add(3, new KeyValuePair<string, object?>("model", "llama-3"), new("route", "/v1/chat"));
            requests.Add(1, new KeyValuePair<string, object?>("model", "mistral"));
            tokens.Add(812.5, new KeyValuePair<string, object?>("direction", "output"));
            inflight.Add(4);
            inflight.Add(-1);
            foreach (var ms in new[] { 12.0, 180.0, 2600.0 }) latency.Record(ms, new KeyValuePair<string, object?>("model", "llama-3"));
            foreach (var bytes in new[] { 512L, 4096L, 65536L }) payload.Record(bytes);
            queue.Record(17, new KeyValuePair<string, object?>("priority", "high"));
            provider.ForceFlush();
        }

        await _bridge.Metrics.WaitForItemsAsync(1);
        await _sdk.Metrics.WaitForItemsAsync(1);
        var expected = Metrics(_sdk.Metrics.Payloads);
        var actual = Metrics(_bridge.Metrics.Payloads);
        Assert.Equal(["gpu.memory.used", "inference.inflight", "inference.latency", "inference.payload", "inference.queue.depth", "inference.requests", "inference.tokens"],
            expected.Keys);
        Assert.Equal(expected.Keys, actual.Keys);
        foreach (var (name, (resource, scope, metric)) in expected)
        {
            var (bridgeResource, bridgeScope, bridgeMetric) = actual[name];
            Assert.Equal(resource.ToString(), bridgeResource.ToString());
            Assert.Equal(scope.ToString(), bridgeScope.ToString());
            Assert.Equal(metric.ToString(), bridgeMetric.ToString());
        }
    }

    [Fact]
    public async Task Log_records_equal_the_sdk_otlp_exporters_field_for_field()
    {
        using var source = new ActivitySource("bridge.logs");
        using var tracing = Sdk.CreateTracerProviderBuilder().AddSource(source.Name).Build();
        using (var loggers = LoggerFactory.Create(builder => builder.AddOpenTelemetry(options =>
               {
                   options.SetResourceBuilder(Resource());
                   options.IncludeScopes = true;
                   options.IncludeFormattedMessage = true;
                   options.AddOtelAiExporter(_collector);
                   options.AddOtlpExporter(exporter => { exporter.Endpoint = OtlpEndpoint; exporter.Protocol = OtlpExportProtocol.Grpc; });
               })))
        {
            var logger = loggers.CreateLogger("Inference.Worker");
            using (source.StartActivity("request"))
            using (logger.BeginScope(new Dictionary<string, object?> { ["request.id"] = "r-42", ["tenant"] = 7 }))
            {
                logger.LogInformation("Model {Model} answered in {Milliseconds} ms", "llama-3", 812.5);
                logger.LogWarning("GPU memory at {Percent}%", 91);
            }
            loggers.CreateLogger("Inference.Gateway").LogError(new InvalidOperationException("the worker went away"), "Request {RequestId} failed", "r-43");
            logger.LogCritical("plain message without a template");
        }

        await _bridge.Logs.WaitForItemsAsync(4);
        await _sdk.Logs.WaitForItemsAsync(4);
        var expected = Logs(_sdk.Logs.Payloads);
        var actual = Logs(_bridge.Logs.Payloads);
        Assert.Equal(4, expected.Count);
        Assert.Equal(expected.Keys, actual.Keys);
        foreach (var (key, (resource, scope, record)) in expected)
        {
            var (bridgeResource, bridgeScope, bridgeRecord) = actual[key];
            Assert.Equal(resource.ToString(), bridgeResource.ToString());
            Assert.Equal(scope.ToString(), bridgeScope.ToString());
            Assert.Equal(record.ToString(), bridgeRecord.ToString());
        }
    }

    private static SortedDictionary<string, (IMessage Resource, IMessage Scope, IMessage Span)> Spans(IEnumerable<ExportTraceServiceRequest> requests)
    {
        var spans = new SortedDictionary<string, (IMessage, IMessage, IMessage)>(StringComparer.Ordinal);
        foreach (var rs in requests.SelectMany(r => r.ResourceSpans))
            foreach (var ss in rs.ScopeSpans)
                foreach (var span in ss.Spans)
                    spans[span.SpanId.ToBase64()] = (rs.Resource, ss.Scope, span);
        return spans;
    }

    /// <summary>
    /// Each metric by name. Each reader aggregates on its own from when it was added and collects at its own moment,
    /// so a point's start and collection times (and an exemplar's time) are the reader's: they are left out.
    /// </summary>
    private static SortedDictionary<string, (IMessage Resource, IMessage Scope, IMessage Metric)> Metrics(IEnumerable<ExportMetricsServiceRequest> requests)
    {
        var metrics = new SortedDictionary<string, (IMessage, IMessage, IMessage)>(StringComparer.Ordinal);
        foreach (var rm in requests.SelectMany(r => r.ResourceMetrics))
            foreach (var sm in rm.ScopeMetrics)
                foreach (var metric in sm.Metrics)
                {
                    var copy = metric.Clone();
                    foreach (var point in copy.Gauge?.DataPoints ?? [])
                    {
                        (point.StartTimeUnixNano, point.TimeUnixNano) = (0, 0);
                        foreach (var exemplar in point.Exemplars) exemplar.TimeUnixNano = 0;
                    }
                    foreach (var point in copy.Sum?.DataPoints ?? [])
                    {
                        (point.StartTimeUnixNano, point.TimeUnixNano) = (0, 0);
                        foreach (var exemplar in point.Exemplars) exemplar.TimeUnixNano = 0;
                    }
                    foreach (var point in copy.Histogram?.DataPoints ?? [])
                    {
                        (point.StartTimeUnixNano, point.TimeUnixNano) = (0, 0);
                        foreach (var exemplar in point.Exemplars) exemplar.TimeUnixNano = 0;
                    }
                    foreach (var point in copy.ExponentialHistogram?.DataPoints ?? [])
                    {
                        (point.StartTimeUnixNano, point.TimeUnixNano) = (0, 0);
                        foreach (var exemplar in point.Exemplars) exemplar.TimeUnixNano = 0;
                    }
                    metrics[metric.Name] = (rm.Resource, sm.Scope, copy);
                }
        return metrics;
    }

    private static SortedDictionary<string, (IMessage Resource, IMessage Scope, IMessage Record)> Logs(IEnumerable<ExportLogsServiceRequest> requests)
    {
        var records = new SortedDictionary<string, (IMessage, IMessage, IMessage)>(StringComparer.Ordinal);
        foreach (var rl in requests.SelectMany(r => r.ResourceLogs))
            foreach (var sl in rl.ScopeLogs)
                foreach (var record in sl.LogRecords)
                    records[$"{record.TimeUnixNano}/{record.Body?.StringValue}"] = (rl.Resource, sl.Scope, record);
        return records;
    }
}
