using OtelAi.Engine.Config;
using OtelAi.Processors.Common;
using OtelAi.Processors.Ottl;

namespace OtelAi.Processors.Filter;

/// <summary>
/// otelcol's filter processor config. The OTTL form: any condition that is true drops the item; conditions are
/// written in their context (e.g. <c>name == "healthz"</c> for spans) and reach parent paths such as
/// <c>resource.attributes[...]</c>. The legacy form, still in most configs and tutorials: <c>spans</c>,
/// <c>metrics</c> and <c>logs</c> with <c>include</c> (keep only what matches) and <c>exclude</c> (drop what matches).
/// </summary>
[ConfigDescription("Drops telemetry matching OTTL conditions.")]
public sealed record FilterConfig : ComponentConfig
{
    [ConfigDescription("What to do when a condition fails at run time: ignore (log, keep the item), silent (keep the item) or propagate (refuse the payload).")]
    public ErrorMode ErrorMode { get; init; } = ErrorMode.Propagate;

    public FilterTracesConfig Traces { get; init; } = new();

    [ConfigDescription("Legacy form: spans kept only when they match include, dropped when they match exclude (match_type strict or regexp; services, span_names, span_kinds, attributes, resources, libraries).")]
    public LegacySpanFilter? Spans { get; init; }

    public FilterMetricsConfig Metrics { get; init; } = new();

    public FilterLogsConfig Logs { get; init; } = new();

    public override IEnumerable<ConfigError> Validate()
    {
        var errors = new List<ConfigError>();
        CompiledFilter.Compile(this, errors);
        return errors;
    }
}

public sealed record FilterTracesConfig
{
    [ConfigDescription("Conditions on resources; a resource matching any is dropped with all its spans.")]
    public IReadOnlyList<string> Resource { get; init; } = [];

    [ConfigDescription("Conditions on spans; a span matching any is dropped.")]
    public IReadOnlyList<string> Span { get; init; } = [];

    [ConfigKey("spanevent")]
    [ConfigDescription("Conditions on span events; a matching event is removed from its span.")]
    public IReadOnlyList<string> SpanEvent { get; init; } = [];
}

public sealed record FilterMetricsConfig
{
    [ConfigDescription("Conditions on resources; a resource matching any is dropped with all its metrics.")]
    public IReadOnlyList<string> Resource { get; init; } = [];

    [ConfigDescription("Conditions on metrics; a matching metric is dropped with all its data points.")]
    public IReadOnlyList<string> Metric { get; init; } = [];

    [ConfigKey("datapoint")]
    [ConfigDescription("Conditions on data points; matching points are dropped, and metrics left without points are removed.")]
    public IReadOnlyList<string> DataPoint { get; init; } = [];

    [ConfigDescription("Legacy form: metrics kept only when they match (match_type strict or regexp; metric_names, resource_attributes).")]
    public LegacyMetricMatch? Include { get; init; }

    [ConfigDescription("Legacy form: metrics dropped when they match.")]
    public LegacyMetricMatch? Exclude { get; init; }
}

public sealed record FilterLogsConfig
{
    [ConfigDescription("Conditions on resources; a resource matching any is dropped with all its log records.")]
    public IReadOnlyList<string> Resource { get; init; } = [];

    [ConfigDescription("Conditions on log records; a matching record is dropped.")]
    public IReadOnlyList<string> LogRecord { get; init; } = [];

    [ConfigDescription("Legacy form: log records kept only when they match (match_type strict or regexp; resource_attributes, record_attributes, severity_texts, severity_number, bodies).")]
    public LegacyLogMatch? Include { get; init; }

    [ConfigDescription("Legacy form: log records dropped when they match.")]
    public LegacyLogMatch? Exclude { get; init; }
}

/// <summary>The legacy <c>spans</c> block: otelcol's filterconfig.MatchConfig for spans.</summary>
public sealed record LegacySpanFilter
{
    public MatchProperties? Include { get; init; }

    public MatchProperties? Exclude { get; init; }
}

/// <summary>otelcol's filterconfig.MetricMatchProperties (legacy metrics filter).</summary>
public sealed record LegacyMetricMatch
{
    [ConfigDescription("strict or regexp; expr (the expr language) is not supported: write the condition in OTTL under metrics.metric.")]
    public string MatchType { get; init; } = "";

    public List<string> MetricNames { get; init; } = [];

    [ConfigDescription("expr-language expressions (match_type expr): not supported.")]
    public List<string> Expressions { get; init; } = [];

    public List<AttributeMatch> ResourceAttributes { get; init; } = [];

    public RegexpCacheConfig? Regexp { get; init; }

    internal MatchProperties ToMatchProperties() => new() { MatchType = MatchType, MetricNames = MetricNames, Resources = ResourceAttributes, Regexp = Regexp };
}

/// <summary>otelcol's filterconfig.LogMatchProperties (legacy logs filter).</summary>
public sealed record LegacyLogMatch
{
    [ConfigDescription("strict or regexp.")]
    public string MatchType { get; init; } = "";

    public List<AttributeMatch> ResourceAttributes { get; init; } = [];

    public List<AttributeMatch> RecordAttributes { get; init; } = [];

    public List<string> SeverityTexts { get; init; } = [];

    public LogSeverityNumberMatch? SeverityNumber { get; init; }

    [ConfigDescription("Log bodies (as text) to match.")]
    public List<string> Bodies { get; init; } = [];

    internal MatchProperties ToMatchProperties() => new()
    {
        MatchType = MatchType, Resources = ResourceAttributes, Attributes = RecordAttributes, LogSeverityTexts = SeverityTexts,
        LogSeverityNumber = SeverityNumber, LogBodies = Bodies,
    };
}

/// <summary>
/// The compiled conditions of a filter config, one array per context (empty when unused), and the legacy
/// include/exclude matchers (null when unused; an item is kept when it should be processed).
/// </summary>
internal sealed record CompiledFilter(
    OttlCondition[] TraceResources, OttlCondition[] Spans, OttlCondition[] SpanEvents,
    OttlCondition[] MetricResources, OttlCondition[] Metrics, OttlCondition[] DataPoints,
    OttlCondition[] LogResources, OttlCondition[] LogRecords,
    IncludeExclude? LegacySpans, IncludeExclude? LegacyMetrics, IncludeExclude? LegacyLogs)
{
    public static CompiledFilter Compile(FilterConfig config, List<ConfigError> errors) => new(
        Conditions(config.Traces.Resource, OttlContextKind.Resource, "traces.resource", errors),
        Conditions(config.Traces.Span, OttlContextKind.Span, "traces.span", errors),
        Conditions(config.Traces.SpanEvent, OttlContextKind.SpanEvent, "traces.spanevent", errors),
        Conditions(config.Metrics.Resource, OttlContextKind.Resource, "metrics.resource", errors),
        Conditions(config.Metrics.Metric, OttlContextKind.Metric, "metrics.metric", errors),
        Conditions(config.Metrics.DataPoint, OttlContextKind.DataPoint, "metrics.datapoint", errors),
        Conditions(config.Logs.Resource, OttlContextKind.Resource, "logs.resource", errors),
        Conditions(config.Logs.LogRecord, OttlContextKind.Log, "logs.log_record", errors),
        Legacy(config.Spans?.Include, config.Spans?.Exclude, MatchTarget.Spans, "spans",
            config.Traces.Resource.Count + config.Traces.Span.Count + config.Traces.SpanEvent.Count > 0, errors),
        CompileLegacyMetrics(config.Metrics, errors),
        Legacy(config.Logs.Include?.ToMatchProperties(), config.Logs.Exclude?.ToMatchProperties(), MatchTarget.Logs, "logs",
            config.Logs.Resource.Count + config.Logs.LogRecord.Count > 0, errors));

    private static IncludeExclude? CompileLegacyMetrics(FilterMetricsConfig metrics, List<ConfigError> errors)
    {
        foreach (var (match, key) in new[] { (metrics.Include, "metrics.include"), (metrics.Exclude, "metrics.exclude") })
            if (match is { MatchType: "expr" } || match?.Expressions.Count > 0)
            {
                errors.Add(new ConfigError($"{key}.match_type", "match_type expr (the expr language) is not supported by otelai; write the condition in OTTL under metrics.metric or metrics.datapoint"));
                return null;
            }
        return Legacy(metrics.Include?.ToMatchProperties(), metrics.Exclude?.ToMatchProperties(), MatchTarget.Metrics, "metrics",
            metrics.Resource.Count + metrics.Metric.Count + metrics.DataPoint.Count > 0, errors);
    }

    /// <summary>A legacy include/exclude pair, or null when neither is set; otelcol refuses mixing it with OTTL conditions for the same signal.</summary>
    private static IncludeExclude? Legacy(MatchProperties? include, MatchProperties? exclude, MatchTarget target, string key, bool hasConditions, List<ConfigError> errors)
    {
        if (include is null && exclude is null) return null;
        if (hasConditions)
        {
            errors.Add(new ConfigError(key, "cannot use OTTL conditions and include/exclude for the same signal at the same time"));
            return null;
        }
        var before = errors.Count;
        errors.AddRange(IncludeExclude.Validate(include, exclude, target).Select(e => e with { Path = $"{key}.{e.Path}" }));
        return errors.Count == before ? IncludeExclude.Compile(include, exclude, target) : null;
    }

    private static OttlCondition[] Conditions(IReadOnlyList<string> texts, OttlContextKind context, string path, List<ConfigError> errors)
    {
        var compiled = new List<OttlCondition>();
        for (var i = 0; i < texts.Count; i++)
        {
            try
            {
                compiled.Add(OttlLanguage.CompileCondition(texts[i], context));
            }
            catch (OttlCompileException e)
            {
                errors.Add(new ConfigError($"{path}[{i}]", e.Message));
            }
        }
        return compiled.ToArray();
    }
}
