using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Logs.V1;
using OtelAi.Otlp.Proto.Metrics.V1;
using OtelAi.Processors.GenAiNormalize;
using static OtelAi.TestSupport.SampleData;

namespace OtelAi.Processors.Tests;

/// <summary>genai_normalize: each dialect's attributes onto the current GenAI conventions, on every signal.</summary>
public sealed class GenAiNormalizeTests
{
    private static Google.Protobuf.Collections.RepeatedField<KeyValue> Normalize(string yaml, params KeyValue[] attributes)
    {
        var list = new Google.Protobuf.Collections.RepeatedField<KeyValue> { attributes };
        new GenAiNormalizer(ConfigText.Bind<GenAiNormalizeConfig>(yaml)).Normalize(list);
        return list;
    }

    private static string Text(Google.Protobuf.Collections.RepeatedField<KeyValue> attributes, string key) => attributes.Get(key).AsString();

    [Fact]
    public void Older_semantic_conventions_and_vLLM_tracing()
    {
        var attributes = Normalize("", Attr("gen_ai.system", "openai"), Attr("gen_ai.usage.prompt_tokens", 120L), Attr("gen_ai.usage.completion_tokens", "42"),
            Attr("gen_ai.latency.time_to_first_token", 0.08));
        Assert.Equal("openai", Text(attributes, "gen_ai.provider.name"));
        Assert.Equal(120, attributes.Get("gen_ai.usage.input_tokens")!.IntValue);
        Assert.Equal(42, attributes.Get("gen_ai.usage.output_tokens")!.IntValue); // a number written as text becomes a number
        Assert.Equal("openai", Text(attributes, "gen_ai.system")); // originals kept by default
        Assert.Equal(0.08, attributes.Get("gen_ai.latency.time_to_first_token")!.DoubleValue); // no convention for it: left for genai_metrics
    }

    [Theory]
    [InlineData("chat", "chat")]
    [InlineData("completion", "text_completion")]
    [InlineData("embedding", "embeddings")]
    [InlineData("rerank", null)]
    public void OpenLLMetry_request_types(string requestType, string? operation)
    {
        var attributes = Normalize("", Attr("llm.request.type", requestType), Attr("llm.is_streaming", "true"), Attr("traceloop.workflow.name", "rag"));
        Assert.Equal(operation, attributes.Get("gen_ai.operation.name")?.StringValue);
        Assert.True(attributes.Get("gen_ai.request.stream")!.BoolValue);
        Assert.Equal("rag", Text(attributes, "traceloop.workflow.name"));
    }

    [Fact]
    public void OpenInference_model_tokens_provider_kind_and_invocation_parameters()
    {
        var attributes = Normalize("", Attr("openinference.span.kind", "LLM"), Attr("llm.model_name", "gpt-4o-mini"), Attr("llm.system", "openai"),
            Attr("llm.token_count.prompt", 30L), Attr("llm.token_count.completion", 7L), Attr("llm.token_count.total", 37L),
            Attr("llm.invocation_parameters", """{"temperature": 0.2, "max_tokens": 256, "top_p": 1, "stream": true}"""));
        Assert.Equal("chat", Text(attributes, "gen_ai.operation.name"));
        Assert.Equal("gpt-4o-mini", Text(attributes, "gen_ai.request.model"));
        Assert.Equal("openai", Text(attributes, "gen_ai.provider.name"));
        Assert.Equal((30L, 7L), (attributes.Get("gen_ai.usage.input_tokens")!.IntValue, attributes.Get("gen_ai.usage.output_tokens")!.IntValue));
        Assert.Equal(0.2, attributes.Get("gen_ai.request.temperature")!.DoubleValue);
        Assert.Equal(256, attributes.Get("gen_ai.request.max_tokens")!.IntValue);
        Assert.Equal(1.0, attributes.Get("gen_ai.request.top_p")!.DoubleValue);
    }

    [Fact]
    public void Current_attributes_win_unless_overwrite_and_originals_go_when_asked()
    {
        var kept = Normalize("", Attr("gen_ai.provider.name", "azure.ai.openai"), Attr("gen_ai.system", "openai"));
        Assert.Equal("azure.ai.openai", Text(kept, "gen_ai.provider.name"));

        var overwritten = Normalize("overwrite: true\nkeep_originals: false", Attr("gen_ai.provider.name", "azure.ai.openai"), Attr("gen_ai.system", "openai"));
        Assert.Equal("openai", Text(overwritten, "gen_ai.provider.name"));
        Assert.Null(overwritten.Get("gen_ai.system"));

        var onlyOpenInference = Normalize("dialects: [openinference]", Attr("gen_ai.system", "openai"), Attr("llm.model_name", "m"));
        Assert.Null(onlyOpenInference.Get("gen_ai.provider.name"));
        Assert.Equal("m", Text(onlyOpenInference, "gen_ai.request.model"));
    }

    [Fact]
    public async Task Logs_metrics_and_span_events_are_normalized_by_the_processor()
    {
        var factory = new GenAiNormalizeProcessorFactory();
        var settings = TestHost.Settings("genai_normalize");
        var config = ConfigText.Bind<GenAiNormalizeConfig>("");

        var logsSink = new OtelAi.TestSupport.Sink<ExportLogsServiceRequest>();
        var logs = factory.CreateProcessor(settings, config, logsSink);
        await logs.ConsumeAsync(new ExportLogsServiceRequest { ResourceLogs = { new ResourceLogs { ScopeLogs = { new ScopeLogs { LogRecords = { new LogRecord { Attributes = { Attr("gen_ai.system", "vllm") } } } } } } } }, CancellationToken.None);
        Assert.Equal("vllm", logsSink.Payloads.Single().ResourceLogs[0].ScopeLogs[0].LogRecords[0].Attributes.Get("gen_ai.provider.name").AsString());

        var metricsSink = new OtelAi.TestSupport.Sink<ExportMetricsServiceRequest>();
        var metrics = factory.CreateProcessor(settings, config, metricsSink);
        var usage = new Metric { Name = "gen_ai.client.token.usage", Histogram = new Histogram { DataPoints = { new HistogramDataPoint { Attributes = { Attr("gen_ai.system", "openai") } } } } };
        await metrics.ConsumeAsync(new ExportMetricsServiceRequest { ResourceMetrics = { new ResourceMetrics { ScopeMetrics = { new ScopeMetrics { Metrics = { usage } } } } } }, CancellationToken.None);
        Assert.Equal("openai", metricsSink.Payloads.Single().ResourceMetrics[0].ScopeMetrics[0].Metrics[0].Histogram.DataPoints[0].Attributes.Get("gen_ai.provider.name").AsString());

        var tracesSink = new OtelAi.TestSupport.Sink<OtelAi.Otlp.Proto.Collector.Trace.V1.ExportTraceServiceRequest>();
        var traces = factory.CreateProcessor(settings, config, tracesSink);
        var request = Traces(1);
        request.ResourceSpans[0].ScopeSpans[0].Spans[0].Events[0].Attributes.Add(Attr("llm.model_name", "llama-3"));
        await traces.ConsumeAsync(request, CancellationToken.None);
        Assert.Equal("llama-3", tracesSink.Payloads.Single().ResourceSpans[0].ScopeSpans[0].Spans[0].Events[0].Attributes.Get("gen_ai.request.model").AsString());
    }
}
