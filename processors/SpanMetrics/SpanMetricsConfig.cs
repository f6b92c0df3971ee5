using OtelAi.Engine.Config;

namespace OtelAi.Processors.SpanMetrics;

/// <summary>An extra dimension: a span attribute (or, failing that, a resource attribute) by name, with a value for spans that lack it.</summary>
public sealed record SpanMetricsDimension : IConfigSection
{
    [ConfigDescription("Attribute key; the label is its name.")]
    public string Name { get; init; } = "";

    [ConfigDescription("Value when neither the span nor its resource has the attribute; unset: the dimension is left out for that span.")]
    public string? Default { get; init; }

    [ConfigDescription("otelai: the value is a URL path to turn into a route template (ids, UUIDs, hashes → {id}, no query); a dimension named http.route falls back to url.path, then http.target, for spans without a route.")]
    public bool NormalizeRoute { get; init; }

    public IEnumerable<ConfigError> Validate()
    {
        if (Name.Length == 0) yield return new("name", "must be set");
    }
}

public enum HistogramUnit
{
    [ConfigKey("ms")] Milliseconds,
    [ConfigKey("s")] Seconds,
}

public sealed record ExplicitHistogramConfig : IConfigSection
{
    [ConfigDescription("Bucket upper bounds as durations (2ms, 1s); default 2, 4, 6, 8, 10, 50, 100, 200, 400, 800, 1000, 1400, 2000, 5000, 10000, 15000 ms.")]
    public List<TimeSpan> Buckets { get; init; } = [];

    public IEnumerable<ConfigError> Validate()
    {
        for (var i = 1; i < Buckets.Count; i++)
            if (Buckets[i] <= Buckets[i - 1]) { yield return new("buckets", "must be in increasing order"); yield break; }
    }
}

public sealed record ExponentialHistogramConfig : IConfigSection
{
    [ConfigDescription("Most buckets of each sign; the scale drops as needed to fit.")]
    [ConfigRange(1)]
    public int MaxSize { get; init; } = 160;

    public IEnumerable<ConfigError> Validate() => [];
}

public sealed record SpanMetricsHistogramConfig : IConfigSection
{
    [ConfigDescription("Emit no duration histogram.")]
    public bool Disable { get; init; }

    [ConfigDescription("Unit of the duration histogram: ms or s.")]
    public HistogramUnit Unit { get; init; } = HistogramUnit.Milliseconds;

    public ExplicitHistogramConfig? Explicit { get; init; }

    public ExponentialHistogramConfig? Exponential { get; init; }

    [ConfigDescription("Dimensions added to the duration histogram only.")]
    public List<SpanMetricsDimension> Dimensions { get; init; } = [];

    public IEnumerable<ConfigError> Validate()
    {
        if (Explicit is not null && Exponential is not null) yield return new("", "use either `explicit` or `exponential` buckets histogram");
    }
}

public sealed record SpanMetricsExemplarsConfig : IConfigSection
{
    [ConfigDescription("Attach the trace and span id of measured spans to the points as exemplars.")]
    public bool Enabled { get; init; }

    [ConfigDescription("Most exemplars kept per data point between flushes (0: no limit).")]
    [ConfigRange(0)]
    public int MaxPerDataPoint { get; init; }

    public IEnumerable<ConfigError> Validate() => [];
}

public sealed record SpanMetricsEventsConfig : IConfigSection
{
    [ConfigDescription("Count span events (e.g. exceptions) as the events metric.")]
    public bool Enabled { get; init; }

    [ConfigDescription("Event attributes to add as dimensions of the events metric.")]
    public List<SpanMetricsDimension> Dimensions { get; init; } = [];

    public IEnumerable<ConfigError> Validate()
    {
        if (Enabled && Dimensions.Count == 0) yield return new("dimensions", "no dimensions configured for events");
    }
}

public enum SpanMetricsTemporality
{
    [ConfigKey("AGGREGATION_TEMPORALITY_CUMULATIVE")] Cumulative,
    [ConfigKey("AGGREGATION_TEMPORALITY_DELTA")] Delta,
}

[ConfigDescription("Derives request, error and duration (RED) metrics from spans: a calls counter and a duration histogram per service, span name, kind, status and configured dimensions.")]
public sealed record SpanMetricsConfig : ComponentConfig
{
    /// <summary>The dimensions every series has, unless excluded.</summary>
    internal static readonly string[] DefaultDimensions = ["service.name", "span.name", "span.kind", "status.code"];

    [ConfigDescription("Dimensions added to every metric, after service.name, span.name, span.kind and status.code.")]
    public List<SpanMetricsDimension> Dimensions { get; init; } = [];

    [ConfigDescription("Dimensions added to the calls metric only.")]
    public List<SpanMetricsDimension> CallsDimensions { get; init; } = [];

    [ConfigDescription("Default dimensions to leave out (e.g. span.kind).")]
    public List<string> ExcludeDimensions { get; init; } = [];

    [ConfigDescription("Deprecated in otelcol in favour of aggregation_cardinality_limit; accepted, no effect beyond that limit.")]
    [ConfigRange(0)]
    public int DimensionsCacheSize { get; init; }

    [ConfigDescription("Most resources aggregated at once; the least recently seen beyond it are dropped.")]
    [ConfigRange(1)]
    public int ResourceMetricsCacheSize { get; init; } = 1000;

    [ConfigDescription("Resource attributes that tell resources apart (default: all of them).")]
    public List<string> ResourceMetricsKeyAttributes { get; init; } = [];

    [ConfigDescription("Temporality of the emitted metrics.")]
    public SpanMetricsTemporality AggregationTemporality { get; init; } = SpanMetricsTemporality.Cumulative;

    public SpanMetricsHistogramConfig Histogram { get; init; } = new();

    [ConfigDescription("How often the aggregated metrics are emitted.")]
    public TimeSpan MetricsFlushInterval { get; init; } = TimeSpan.FromSeconds(60);

    [ConfigDescription("A resource that received no span for this long is no longer emitted (0: never expires).")]
    public TimeSpan MetricsExpiration { get; init; }

    [ConfigDescription("A series that received no span for this long is no longer emitted (0: never expires).")]
    public TimeSpan SeriesExpiration { get; init; }

    [ConfigDescription("Accepted for otelcol compatibility (the delta timestamp cache): start times are kept per series here.")]
    public int? MetricTimestampCacheSize { get; init; }

    [ConfigDescription("Prefix of the metric names (namespace.calls, namespace.duration, namespace.events).")]
    public string Namespace { get; init; } = "traces.span.metrics";

    public SpanMetricsExemplarsConfig Exemplars { get; init; } = new();

    public SpanMetricsEventsConfig Events { get; init; } = new();

    [ConfigDescription("Only spans of these instrumentation scopes (empty: all).")]
    public List<string> IncludeInstrumentationScope { get; init; } = [];

    [ConfigDescription("Most series per metric and resource (0: no limit); further ones are added into one series with otel.metric.overflow=\"true\".")]
    [ConfigRange(0)]
    public int AggregationCardinalityLimit { get; init; }

    [ConfigDescription("Copy every resource attribute of the spans onto the metrics' resource (default: service.name, service.namespace and service.instance.id only).")]
    public bool AddResourceAttributes { get; init; }

    [ConfigDescription("otelai: count a span carrying a sampling threshold (tracestate ot=th, written by consistent-probability samplers such as our tail sampler) as 1/p spans, so RED metrics stay right after sampling.")]
    public bool WeightSampledSpans { get; init; } = true;

    public override IEnumerable<ConfigError> Validate()
    {
        var names = new HashSet<string>(DefaultDimensions, StringComparer.Ordinal);
        foreach (var dimension in Dimensions)
            if (!names.Add(dimension.Name)) yield return new("dimensions", $"duplicate dimension name {dimension.Name}");
        foreach (var excluded in ExcludeDimensions)
            if (!DefaultDimensions.Contains(excluded)) yield return new("exclude_dimensions", $"\"{excluded}\" is not a default dimension ({string.Join(", ", DefaultDimensions)})");
        if (MetricsFlushInterval <= TimeSpan.Zero) yield return new("metrics_flush_interval", "must be positive");
        if (MetricsExpiration < TimeSpan.Zero) yield return new("metrics_expiration", "must not be negative");
        if (SeriesExpiration < TimeSpan.Zero) yield return new("series_expiration", "must not be negative");
    }
}
