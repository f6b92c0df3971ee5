using Google.Protobuf;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Logs.V1;
using OtelAi.Otlp.Proto.Metrics.V1;
using OtelAi.Otlp.Proto.Resource.V1;
using OtelAi.Otlp.Proto.Trace.V1;

namespace OtelAi.TestSupport;

/// <summary>Deterministic OTLP payloads for tests: every field kind set, so round trips are checked for real.</summary>
public static class SampleData
{
    public static KeyValue Attr(string key, string value) => new() { Key = key, Value = new AnyValue { StringValue = value } };
    public static KeyValue Attr(string key, long value) => new() { Key = key, Value = new AnyValue { IntValue = value } };
    public static KeyValue Attr(string key, double value) => new() { Key = key, Value = new AnyValue { DoubleValue = value } };
    public static KeyValue Attr(string key, bool value) => new() { Key = key, Value = new AnyValue { BoolValue = value } };

    public static Resource Resource(string serviceName) => new() { Attributes = { Attr("service.name", serviceName), Attr("host.name", "node-1") } };

    public static ExportTraceServiceRequest Traces(int spans, string serviceName = "inference-api", int seed = 1)
    {
        var rnd = new Random(seed);
        var scope = new ScopeSpans { Scope = new InstrumentationScope { Name = "test.scope", Version = "1.2.3" } };
        for (var i = 0; i < spans; i++)
        {
            var traceId = new byte[16];
            var spanId = new byte[8];
            rnd.NextBytes(traceId);
            rnd.NextBytes(spanId);
            var start = 1_700_000_000_000_000_000UL + (ulong)i * 1_000_000UL;
            scope.Spans.Add(new Span
            {
                TraceId = ByteString.CopyFrom(traceId),
                SpanId = ByteString.CopyFrom(spanId),
                ParentSpanId = i % 2 == 0 ? ByteString.Empty : ByteString.CopyFrom(spanId.Reverse().ToArray()),
                TraceState = "vendor=x",
                Name = $"POST /v1/models/llama-{i % 3}/infer",
                Kind = Span.Types.SpanKind.Server,
                StartTimeUnixNano = start,
                EndTimeUnixNano = start + 25_000_000UL,
                Flags = 0x101,
                Attributes = { Attr("http.request.method", "POST"), Attr("http.response.status_code", 200L + i % 2 * 300), Attr("ratio", 0.5), Attr("ok", true) },
                Events = { new Span.Types.Event { Name = "token", TimeUnixNano = start + 1000, Attributes = { Attr("n", (long)i) } } },
                Links = { new Span.Types.Link { TraceId = ByteString.CopyFrom(traceId), SpanId = ByteString.CopyFrom(spanId), Attributes = { Attr("link", "yes") } } },
                Status = new Status { Code = i % 5 == 0 ? Status.Types.StatusCode.Error : Status.Types.StatusCode.Ok, Message = i % 5 == 0 ? "boom" : "" },
            });
        }
        return new ExportTraceServiceRequest { ResourceSpans = { new ResourceSpans { Resource = Resource(serviceName), ScopeSpans = { scope }, SchemaUrl = "https://opentelemetry.io/schemas/1.26.0" } } };
    }

    public static ExportMetricsServiceRequest Metrics(int points, string serviceName = "inference-api")
    {
        var scope = new ScopeMetrics { Scope = new InstrumentationScope { Name = "test.meter" } };
        var gauge = new Metric { Name = "gpu.memory.used", Unit = "MiBy", Gauge = new Gauge() };
        var sum = new Metric { Name = "requests", Unit = "{request}", Sum = new Sum { IsMonotonic = true, AggregationTemporality = AggregationTemporality.Cumulative } };
        var histogram = new Metric { Name = "latency", Unit = "ms", Histogram = new Histogram { AggregationTemporality = AggregationTemporality.Cumulative } };
        for (var i = 0; i < points; i++)
        {
            var t = 1_700_000_000_000_000_000UL + (ulong)i;
            switch (i % 3)
            {
                case 0: gauge.Gauge.DataPoints.Add(new NumberDataPoint { TimeUnixNano = t, AsInt = 1000 + i, Attributes = { Attr("gpu", (long)i) } }); break;
                case 1: sum.Sum.DataPoints.Add(new NumberDataPoint { StartTimeUnixNano = t - 1, TimeUnixNano = t, AsDouble = i * 1.5, Attributes = { Attr("route", $"/r{i}") } }); break;
                default:
                    histogram.Histogram.DataPoints.Add(new HistogramDataPoint
                    {
                        TimeUnixNano = t, Count = 6, Sum = 12.5, Min = 0.5, Max = 7, BucketCounts = { 1, 2, 3 }, ExplicitBounds = { 1, 5 },
                        Attributes = { Attr("i", (long)i) },
                    });
                    break;
            }
        }
        foreach (var m in new[] { gauge, sum, histogram })
            if (MetricCount(m) > 0) scope.Metrics.Add(m);
        return new ExportMetricsServiceRequest { ResourceMetrics = { new ResourceMetrics { Resource = Resource(serviceName), ScopeMetrics = { scope } } } };

        static int MetricCount(Metric m) => OtelAi.Otlp.MetricPoints.Count(m);
    }

    public static ExportLogsServiceRequest Logs(int records, string serviceName = "inference-api")
    {
        var scope = new ScopeLogs { Scope = new InstrumentationScope { Name = "test.logger" } };
        for (var i = 0; i < records; i++)
        {
            scope.LogRecords.Add(new LogRecord
            {
                TimeUnixNano = 1_700_000_000_000_000_000UL + (ulong)i,
                ObservedTimeUnixNano = 1_700_000_000_000_000_001UL + (ulong)i,
                SeverityNumber = SeverityNumber.Info,
                SeverityText = "INFO",
                Body = new AnyValue { StringValue = $"request {i} served" },
                Attributes = { Attr("i", (long)i) },
                TraceId = ByteString.CopyFrom(Enumerable.Range(0, 16).Select(b => (byte)(b + i)).ToArray()),
                SpanId = ByteString.CopyFrom(Enumerable.Range(0, 8).Select(b => (byte)(b * 3 + i)).ToArray()),
                Flags = 1,
            });
        }
        return new ExportLogsServiceRequest { ResourceLogs = { new ResourceLogs { Resource = Resource(serviceName), ScopeLogs = { scope } } } };
    }
}
