using Google.Protobuf;
using OtelAi.Engine.Components;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Metrics.V1;
using OtelAi.Otlp.Proto.Trace.V1;
using OtelAi.Processors.GenAiMetrics;
using OtelAi.TestSupport;
using static OtelAi.TestSupport.SampleData;

namespace OtelAi.Processors.Tests;

/// <summary>genai_metrics: the semantic-convention metrics computed from GenAI spans, with the conventions' names, units, buckets and dimensions.</summary>
public sealed class GenAiMetricsTests
{
    private readonly Sink<ExportMetricsServiceRequest> _metrics = new();

    private GenAiMetricsConnector Connector(string yaml = "") =>
        new(TestSettings.For(new ComponentId("genai_metrics"), ComponentKind.Connector), ConfigText.Bind<GenAiMetricsConfig>(yaml), _metrics, new ManualTime());

    private static Span GenAiSpan(Span.Types.SpanKind kind, double seconds, params KeyValue[] attributes)
    {
        var span = new Span
        {
            TraceId = ByteString.CopyFrom(Enumerable.Repeat((byte)3, 16).ToArray()),
            SpanId = ByteString.CopyFrom(Enumerable.Repeat((byte)4, 8).ToArray()),
            Name = "chat llama-3",
            Kind = kind,
            StartTimeUnixNano = 1_000_000_000,
            EndTimeUnixNano = 1_000_000_000 + (ulong)(seconds * 1e9),
        };
        span.Attributes.Add(attributes);
        return span;
    }

    private async Task<Dictionary<string, Metric>> RunAsync(GenAiMetricsConnector connector, params Span[] spans)
    {
        var request = new ExportTraceServiceRequest { ResourceSpans = { new ResourceSpans { Resource = Resource("chat-api"), ScopeSpans = { new ScopeSpans { Spans = { spans } } } } } };
        await connector.ConsumeAsync(request, CancellationToken.None);
        await connector.FlushAsync(CancellationToken.None);
        return _metrics.Payloads.SelectMany(r => r.ResourceMetrics).SelectMany(rm => rm.ScopeMetrics).SelectMany(sm => sm.Metrics).ToDictionary(m => m.Name);
    }

    [Fact]
    public async Task Client_spans_give_operation_duration_token_usage_tokens_and_cost()
    {
        var metrics = await RunAsync(Connector("prices: {gpt-4o: {input_per_million: 2.5, output_per_million: 10}}"),
            GenAiSpan(Span.Types.SpanKind.Client, 1.5,
                Attr("gen_ai.operation.name", "chat"), Attr("gen_ai.provider.name", "openai"), Attr("gen_ai.request.model", "gpt-4o"),
                Attr("gen_ai.response.model", "gpt-4o"), Attr("server.address", "api.openai.com"),
                Attr("gen_ai.usage.input_tokens", 100L), Attr("gen_ai.usage.output_tokens", 50L), Attr("http.route", "/v1/chat/completions")));

        var duration = metrics["gen_ai.client.operation.duration"];
        Assert.Equal("s", duration.Unit);
        var point = duration.Histogram.DataPoints.Single();
        Assert.Equal([0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92], point.ExplicitBounds);
        Assert.Equal(1UL, point.BucketCounts[8]); // 1.5 s in (1.28, 2.56]
        Assert.Equal(
            ["gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.request.model", "gen_ai.response.model", "server.address", "http.route"],
            point.Attributes.Select(a => a.Key));

        var usage = metrics["gen_ai.client.token.usage"].Histogram.DataPoints;
        Assert.Equal(100, usage.Single(p => p.Attributes.Get("gen_ai.token.type").AsString() == "input").Sum);
        Assert.Equal(50, usage.Single(p => p.Attributes.Get("gen_ai.token.type").AsString() == "output").Sum);
        Assert.Equal("{token}", metrics["gen_ai.client.token.usage"].Unit);
        Assert.Equal(150, metrics["otelai.gen_ai.tokens"].Sum.DataPoints.Sum(p => p.AsInt));
        Assert.Equal((100 * 2.5 + 50 * 10) / 1e6, metrics["otelai.gen_ai.cost"].Sum.DataPoints.Single().AsDouble, 12);
        Assert.False(metrics.ContainsKey("gen_ai.server.request.duration"));
    }

    [Fact]
    public async Task Server_spans_give_request_duration_time_to_first_token_and_time_per_output_token()
    {
        var metrics = await RunAsync(Connector(),
            GenAiSpan(Span.Types.SpanKind.Server, 1.2, Attr("gen_ai.request.model", "llama-3"), Attr("gen_ai.usage.output_tokens", 11L),
                Attr("gen_ai.latency.time_to_first_token", 0.2)),
            GenAiSpan(Span.Types.SpanKind.Server, 0.5, Attr("gen_ai.request.model", "llama-3"), Attr("otelai.http.time_to_first_byte_ns", 50_000_000L)));

        Assert.Equal(2UL, metrics["gen_ai.server.request.duration"].Histogram.DataPoints.Single().Count);
        var ttft = metrics["gen_ai.server.time_to_first_token"].Histogram.DataPoints.Single();
        Assert.Equal(2UL, ttft.Count);
        Assert.Equal(0.25, ttft.Sum, 9);
        var tpot = metrics["gen_ai.server.time_per_output_token"].Histogram.DataPoints.Single();
        Assert.Equal(0.1, tpot.Sum, 9); // (1.2 − 0.2) / (11 − 1)
        Assert.False(metrics.ContainsKey("gen_ai.client.operation.duration"));
    }

    [Fact]
    public async Task Errors_weights_and_non_GenAI_spans()
    {
        var failed = GenAiSpan(Span.Types.SpanKind.Client, 0.1, Attr("gen_ai.request.model", "llama-3"));
        failed.Status = new Status { Code = Status.Types.StatusCode.Error };
        var sampled = GenAiSpan(Span.Types.SpanKind.Client, 0.1, Attr("gen_ai.request.model", "llama-3"));
        sampled.TraceState = "ot=th:c"; // kept at 25 %: stands for 4
        var plainHttp = GenAiSpan(Span.Types.SpanKind.Server, 0.1, Attr("http.route", "/health"));
        var metrics = await RunAsync(Connector(), failed, sampled, plainHttp);

        var points = metrics["gen_ai.client.operation.duration"].Histogram.DataPoints;
        Assert.Equal("_OTHER", points.Single(p => p.Attributes.Any(a => a.Key == "error.type")).Attributes.Get("error.type").AsString());
        Assert.Equal(4UL, points.Single(p => p.Attributes.All(a => a.Key != "error.type")).Count);
        Assert.False(metrics.ContainsKey("gen_ai.server.request.duration")); // the health check is no GenAI span
    }
}
