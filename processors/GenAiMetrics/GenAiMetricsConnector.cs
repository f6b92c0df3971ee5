using System.Globalization;
using OtelAi.Engine.Components;
using OtelAi.Engine.Consumers;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Metrics.V1;
using OtelAi.Otlp.Proto.Resource.V1;
using OtelAi.Otlp.Proto.Trace.V1;
using OtelAi.Processors.Common;
using OtelAi.Processors.SpanMetrics;

namespace OtelAi.Processors.GenAiMetrics;

/// <summary>
/// The OpenTelemetry GenAI semantic-convention metrics, computed from GenAI spans for services whose SDKs do not
/// emit them. A span is a GenAI span when it names an operation, provider or model (gen_ai.*, after genai_normalize
/// or in the current conventions). Client and internal spans give gen_ai.client.operation.duration; server spans
/// gen_ai.server.request.duration, gen_ai.server.time_to_first_token (vLLM's gen_ai.latency.time_to_first_token, or
/// the eBPF receiver's time to first byte) and gen_ai.server.time_per_output_token ((duration − TTFT) / (output
/// tokens − 1)); both give gen_ai.client.token.usage by gen_ai.token.type. Buckets are the conventions' advice.
/// Beside them: otelai.gen_ai.tokens (a counter, so rate() is tokens/s) and, with a price table, otelai.gen_ai.cost.
/// </summary>
internal sealed class GenAiMetricsConnector : DerivedMetricsConnector
{
    internal static readonly string[] SemanticDimensions =
        ["gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.request.model", "gen_ai.response.model", "server.address", "server.port", "error.type"];

    private const string OperationDuration = "gen_ai.client.operation.duration";
    private const string TokenUsage = "gen_ai.client.token.usage";
    private const string ServerDuration = "gen_ai.server.request.duration";
    private const string TimeToFirstToken = "gen_ai.server.time_to_first_token";
    private const string TimePerOutputToken = "gen_ai.server.time_per_output_token";
    private const string Tokens = "otelai.gen_ai.tokens";
    private const string Cost = "otelai.gen_ai.cost";

    private static readonly double[] DurationBuckets = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
    private static readonly double[] TokenBuckets = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
    private static readonly double[] TimeToFirstTokenBuckets = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0];
    private static readonly double[] TimePerOutputTokenBuckets = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5];

    private readonly GenAiMetricsConfig _config;

    public GenAiMetricsConnector(ComponentCreateSettings settings, GenAiMetricsConfig config, ITelemetryConsumer<ExportMetricsServiceRequest> next, TimeProvider? time = null)
        : base(settings, new DerivedMetricsOptions
        {
            ScopeName = "otelai/genai_metrics",
            FlushInterval = config.MetricsFlushInterval,
            Delta = config.AggregationTemporality == SpanMetricsTemporality.Delta,
            ResourceCacheSize = config.ResourceMetricsCacheSize,
            ResourceExpiration = config.MetricsExpiration,
            CardinalityLimit = config.AggregationCardinalityLimit,
        }, next, GenAiMetricsConnectorFactory.FlushFailures, time) => _config = config;

    protected override void Aggregate(ResourceTables tables, Resource? resource, Span span, long nowTicks)
    {
        var attributes = span.Attributes;
        var model = attributes.Get("gen_ai.request.model")?.AsString();
        var operation = attributes.Get("gen_ai.operation.name")?.AsString();
        var provider = attributes.Get("gen_ai.provider.name")?.AsString();
        if (model is null && operation is null && provider is null) return; // not a GenAI span

        var weight = _config.WeightSampledSpans ? SamplingThreshold.Weight(span.TraceState) : 1UL;
        var dimensions = new List<KeyValue>(10);
        void Add(string key, string? value)
        {
            if (!string.IsNullOrEmpty(value)) dimensions.Add(new KeyValue { Key = key, Value = new AnyValue { StringValue = value } });
        }
        Add("gen_ai.operation.name", operation);
        Add("gen_ai.provider.name", provider);
        Add("gen_ai.request.model", model);
        var responseModel = attributes.Get("gen_ai.response.model")?.AsString();
        Add("gen_ai.response.model", responseModel);
        Add("server.address", attributes.Get("server.address")?.AsString());
        Add("server.port", attributes.Get("server.port")?.AsString());
        if (span.Status?.Code == Status.Types.StatusCode.Error)
            Add("error.type", attributes.Get("error.type")?.AsString() ?? "_OTHER");
        foreach (var dimension in _config.Dimensions)
        {
            var value = attributes.Get(dimension.Name) ?? resource?.Attributes.Get(dimension.Name);
            if (dimension.NormalizeRoute)
            {
                if (value is null && dimension.Name == "http.route") value = attributes.Get("url.path") ?? attributes.Get("http.target");
                if (value is not null) value = new AnyValue { StringValue = RouteNormalizer.Normalize(value.AsString()) };
            }
            Add(dimension.Name, value?.AsString() ?? dimension.Default);
        }

        var durationSeconds = (span.EndTimeUnixNano >= span.StartTimeUnixNano ? span.EndTimeUnixNano - span.StartTimeUnixNano : 0) / 1e9;
        var server = span.Kind == Span.Types.SpanKind.Server;
        Record(tables, server ? ServerDuration : OperationDuration, dimensions, DurationBuckets, durationSeconds, weight, nowTicks);

        var input = Number(attributes, "gen_ai.usage.input_tokens");
        var output = Number(attributes, "gen_ai.usage.output_tokens");
        foreach (var (type, count) in new[] { ("input", input), ("output", output) })
        {
            if (count is not { } tokens) continue;
            var typed = new List<KeyValue>(dimensions) { new() { Key = "gen_ai.token.type", Value = new AnyValue { StringValue = type } } };
            Record(tables, TokenUsage, typed, TokenBuckets, tokens, weight, nowTicks);
            tables[Tokens].Lookup(typed, SeriesStart, nowTicks).Count += tokens * weight;
        }

        if (server)
        {
            var ttft = Number(attributes, "gen_ai.latency.time_to_first_token")
                ?? Number(attributes, "otelai.http.time_to_first_byte_ns") / 1e9;
            if (ttft is { } firstToken)
            {
                Record(tables, TimeToFirstToken, dimensions, TimeToFirstTokenBuckets, firstToken, weight, nowTicks);
                if (output is > 1 && durationSeconds > firstToken)
                    Record(tables, TimePerOutputToken, dimensions, TimePerOutputTokenBuckets, (durationSeconds - firstToken) / (output.Value - 1), weight, nowTicks);
            }
        }

        var priced = responseModel ?? model;
        if (priced is not null && _config.Prices.TryGetValue(priced, out var price) && (input is not null || output is not null))
            tables[Cost].Lookup(dimensions, SeriesStart, nowTicks).Count +=
                ((input ?? 0) * price.InputPerMillion + (output ?? 0) * price.OutputPerMillion) / 1e6 * weight;
    }

    private void Record(ResourceTables tables, string metric, List<KeyValue> dimensions, double[] bounds, double value, ulong weight, long nowTicks)
    {
        var series = tables[metric].Lookup(dimensions, SeriesStart, nowTicks);
        series.Histogram ??= new ExplicitDurationHistogram(bounds);
        series.Histogram.Record(value, weight);
    }

    /// <summary>A numeric attribute (int, double, or a number written as text), or null.</summary>
    private static double? Number(Google.Protobuf.Collections.RepeatedField<KeyValue> attributes, string key) => attributes.Get(key) switch
    {
        { ValueCase: AnyValue.ValueOneofCase.IntValue } v => v.IntValue,
        { ValueCase: AnyValue.ValueOneofCase.DoubleValue } v => v.DoubleValue,
        { ValueCase: AnyValue.ValueOneofCase.StringValue } v when double.TryParse(v.StringValue, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => null,
    };

    protected override void Emit(ResourceTables tables, ScopeMetrics scope, AggregationTemporality temporality, ulong nowUnixNano)
    {
        foreach (var (name, unit, description) in new[]
                 {
                     (OperationDuration, "s", "GenAI operation duration."),
                     (ServerDuration, "s", "Generative AI server request duration such as time-to-last byte or last output token."),
                     (TokenUsage, "{token}", "Number of input and output tokens used."),
                     (TimeToFirstToken, "s", "Time to generate first token for successful responses."),
                     (TimePerOutputToken, "s", "Time per output token generated after the first token for successful responses."),
                 })
            if (tables[name].ToHistogram(name, unit, description, temporality, nowUnixNano) is { } histogram) scope.Metrics.Add(histogram);
        if (tables[Tokens].ToSum(Tokens, "{token}", "Tokens processed, by gen_ai.token.type (rate() gives tokens per second).", temporality, nowUnixNano) is { } tokens)
            scope.Metrics.Add(tokens);
        if (tables[Cost].ToSum(Cost, "{USD}", "Cost of the tokens at the configured prices.", temporality, nowUnixNano) is { } cost)
            scope.Metrics.Add(cost);
    }
}
