using Google.Protobuf;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Logs.V1;
using OtelAi.Otlp.Proto.Metrics.V1;
using OtelAi.Otlp.Proto.Resource.V1;
using OtelAi.Otlp.Proto.Trace.V1;

namespace OtelAi.LoadGen;

/// <summary>
/// Builds the requests a run sends. A ring of distinct requests is serialised up front so the generator spends its
/// CPU on sending, not on building messages: the engine under test shares this machine's cores with it.
/// </summary>
public static class RequestFactory
{
    public const int DistinctRequests = 64;

    public static IReadOnlyList<IMessage> Build(LoadOptions options)
    {
        var random = new Random(42);
        return Enumerable.Range(0, DistinctRequests).Select(i => options.Signal switch
        {
            Signal.Traces => (IMessage)Traces(options, random, i),
            Signal.Metrics => Metrics(options, i),
            _ => Logs(options, i),
        }).ToList();
    }

    private static Resource Resource() => new()
    {
        Attributes =
        {
            new KeyValue { Key = "service.name", Value = new AnyValue { StringValue = "otelai-loadgen" } },
            new KeyValue { Key = "host.name", Value = new AnyValue { StringValue = Environment.MachineName } },
        },
    };

    private static IEnumerable<KeyValue> ItemAttributes(LoadOptions options, int item)
    {
        for (var a = 0; a < options.Attributes; a++)
        {
            yield return options.AttributeType == AttributeType.Int
                ? new KeyValue { Key = $"attr_{a}", Value = new AnyValue { IntValue = item * 31 + a } }
                : new KeyValue { Key = $"attr_{a}", Value = new AnyValue { StringValue = $"value-{a}-{item % 97}" } };
        }
    }

    private static ExportTraceServiceRequest Traces(LoadOptions options, Random random, int request)
    {
        var scope = new ScopeSpans { Scope = new InstrumentationScope { Name = "otelai-loadgen" } };
        var now = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000UL;
        Span<byte> traceId = stackalloc byte[16];
        Span<byte> spanId = stackalloc byte[8];
        for (var i = 0; i < options.ItemsPerRequest; i++)
        {
            random.NextBytes(traceId);
            random.NextBytes(spanId);
            scope.Spans.Add(new Span
            {
                TraceId = ByteString.CopyFrom(traceId),
                SpanId = ByteString.CopyFrom(spanId),
                Name = "load-generator-span",
                Kind = Span.Types.SpanKind.Client,
                StartTimeUnixNano = now,
                EndTimeUnixNano = now + 123_000UL,
                Attributes = { ItemAttributes(options, request * options.ItemsPerRequest + i) },
                Status = new Status(),
            });
        }
        return new ExportTraceServiceRequest { ResourceSpans = { new ResourceSpans { Resource = Resource(), ScopeSpans = { scope } } } };
    }

    private static ExportMetricsServiceRequest Metrics(LoadOptions options, int request)
    {
        var now = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000UL;
        var gauge = new Metric { Name = "gen", Unit = "1", Gauge = new Gauge() };
        for (var i = 0; i < options.ItemsPerRequest; i++)
            gauge.Gauge.DataPoints.Add(new NumberDataPoint { TimeUnixNano = now, AsInt = i, Attributes = { ItemAttributes(options, request * options.ItemsPerRequest + i) } });
        return new ExportMetricsServiceRequest
        {
            ResourceMetrics = { new ResourceMetrics { Resource = Resource(), ScopeMetrics = { new ScopeMetrics { Metrics = { gauge } } } } },
        };
    }

    private static ExportLogsServiceRequest Logs(LoadOptions options, int request)
    {
        var now = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000UL;
        var scope = new ScopeLogs();
        for (var i = 0; i < options.ItemsPerRequest; i++)
            scope.LogRecords.Add(new LogRecord
            {
                TimeUnixNano = now,
                SeverityNumber = SeverityNumber.Info,
                Body = new AnyValue { StringValue = "the model answered" },
                Attributes = { ItemAttributes(options, request * options.ItemsPerRequest + i) },
            });
        return new ExportLogsServiceRequest { ResourceLogs = { new ResourceLogs { Resource = Resource(), ScopeLogs = { scope } } } };
    }
}
