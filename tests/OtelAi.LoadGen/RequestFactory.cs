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
            Signal.Traces => options.Ai ? InferenceTraces(options, random, i) : (IMessage)Traces(options, random, i),
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

    private static readonly (string Route, string Operation, string Model, double BaseMs)[] InferenceCalls =
    [
        ("/v1/chat/completions", "chat", "llama-3-8b", 420),
        ("/v1/chat/completions", "chat", "mistral-7b", 310),
        ("/v1/embeddings", "embeddings", "mistral-7b", 25),
        ("/v2/models/resnet50/infer", "predict", "resnet50", 12),
    ];

    /// <summary>Server spans as an inference service emits them (see LoadOptions.Usage, --ai).</summary>
    private static ExportTraceServiceRequest InferenceTraces(LoadOptions options, Random random, int request)
    {
        var scope = new ScopeSpans { Scope = new InstrumentationScope { Name = "otelai-loadgen" } };
        var now = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000UL;
        Span<byte> traceId = stackalloc byte[16];
        Span<byte> spanId = stackalloc byte[8];
        for (var i = 0; i < options.ItemsPerRequest; i++)
        {
            random.NextBytes(traceId);
            random.NextBytes(spanId);
            var (route, operation, model, baseMs) = InferenceCalls[random.Next(InferenceCalls.Length)];
            var status = random.NextDouble() < 0.02 ? (random.Next(2) == 0 ? 500 : 503) : 200;
            var durationMs = baseMs * (0.5 + random.NextDouble());
            var (input, output) = operation == "predict" ? (0, 0) : (random.Next(20, 2000), operation == "chat" ? random.Next(1, 800) : 0);
            var span = new Span
            {
                TraceId = ByteString.CopyFrom(traceId),
                SpanId = ByteString.CopyFrom(spanId),
                Name = $"POST {route}",
                Kind = Span.Types.SpanKind.Server,
                StartTimeUnixNano = now,
                EndTimeUnixNano = now + (ulong)(durationMs * 1_000_000),
                Status = status >= 500 ? new Status { Code = Status.Types.StatusCode.Error } : new Status(),
                Attributes =
                {
                    Attr("http.request.method", "POST"), Attr("http.route", route), Attr("url.path", route),
                    new KeyValue { Key = "http.response.status_code", Value = new AnyValue { IntValue = status } },
                    Attr("gen_ai.operation.name", operation), Attr("gen_ai.request.model", model),
                    Attr("http.request.body", $$"""{"model": "{{model}}", "max_tokens": 512}"""),
                },
            };
            if (input > 0) span.Attributes.Add(new KeyValue { Key = "gen_ai.usage.input_tokens", Value = new AnyValue { IntValue = input } });
            if (output > 0) span.Attributes.Add(new KeyValue { Key = "gen_ai.usage.output_tokens", Value = new AnyValue { IntValue = output } });
            span.Attributes.Add(ItemAttributes(options, request * options.ItemsPerRequest + i));
            scope.Spans.Add(span);
        }
        return new ExportTraceServiceRequest { ResourceSpans = { new ResourceSpans { Resource = Resource(), ScopeSpans = { scope } } } };
    }

    private static KeyValue Attr(string key, string value) => new() { Key = key, Value = new AnyValue { StringValue = value } };

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
