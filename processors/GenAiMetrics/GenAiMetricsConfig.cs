using OtelAi.Engine.Config;
using OtelAi.Processors.SpanMetrics;

namespace OtelAi.Processors.GenAiMetrics;

/// <summary>What one model costs, per million tokens of each type.</summary>
public sealed record ModelPrice : IConfigSection
{
    [ConfigDescription("Price of one million input (prompt) tokens.")]
    [ConfigRange(0)]
    public double InputPerMillion { get; init; }

    [ConfigDescription("Price of one million output (completion) tokens.")]
    [ConfigRange(0)]
    public double OutputPerMillion { get; init; }

    public IEnumerable<ConfigError> Validate() => [];
}

[ConfigDescription("otelai: computes the OpenTelemetry GenAI semantic-convention metrics (operation duration, token usage, server request duration, time to first token, time per output token) from GenAI spans, plus token and cost counters per model.")]
public sealed record GenAiMetricsConfig : ComponentConfig
{
    [ConfigDescription("How often the aggregated metrics are emitted.")]
    public TimeSpan MetricsFlushInterval { get; init; } = TimeSpan.FromSeconds(60);

    [ConfigDescription("Temporality of the emitted metrics.")]
    public SpanMetricsTemporality AggregationTemporality { get; init; } = SpanMetricsTemporality.Cumulative;

    [ConfigDescription("Most series per metric and resource (0: no limit); further ones are added into one series with otel.metric.overflow=\"true\".")]
    [ConfigRange(0)]
    public int AggregationCardinalityLimit { get; init; } = 2000;

    [ConfigDescription("Dimensions beside the semantic-convention ones (span attribute, else resource attribute, else default).")]
    public List<SpanMetricsDimension> Dimensions { get; init; } =
    [
        new() { Name = "model_version" },
        new() { Name = "http.route", NormalizeRoute = true },
    ];

    [ConfigDescription("Most resources aggregated at once; the least recently seen beyond it are dropped.")]
    [ConfigRange(1)]
    public int ResourceMetricsCacheSize { get; init; } = 1000;

    [ConfigDescription("A resource that received no span for this long is no longer emitted (0: never expires).")]
    public TimeSpan MetricsExpiration { get; init; }

    [ConfigDescription("Prices by model (gen_ai.response.model, else gen_ai.request.model): adds the gen_ai.client.cost counter.")]
    public Dictionary<string, ModelPrice> Prices { get; init; } = new();

    [ConfigDescription("Count a span carrying a sampling threshold (tracestate ot=th) as the 1/p spans it stands for.")]
    public bool WeightSampledSpans { get; init; } = true;

    public override IEnumerable<ConfigError> Validate()
    {
        if (MetricsFlushInterval <= TimeSpan.Zero) yield return new("metrics_flush_interval", "must be positive");
        if (MetricsExpiration < TimeSpan.Zero) yield return new("metrics_expiration", "must not be negative");
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var dimension in Dimensions)
            if (!names.Add(dimension.Name) || GenAiMetricsConnector.SemanticDimensions.Contains(dimension.Name))
                yield return new("dimensions", $"duplicate dimension name {dimension.Name}");
    }
}
