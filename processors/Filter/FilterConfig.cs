using OtelAi.Engine.Config;
using OtelAi.Processors.Ottl;

namespace OtelAi.Processors.Filter;

/// <summary>
/// otelcol's filter processor config (OTTL form): any condition that is true drops the item. Conditions are written
/// in their context (e.g. <c>name == "healthz"</c> for spans); parent paths such as <c>resource.attributes[...]</c>
/// are reachable.
/// </summary>
[ConfigDescription("Drops telemetry matching OTTL conditions.")]
public sealed record FilterConfig : ComponentConfig
{
    [ConfigDescription("What to do when a condition fails at run time: ignore (log, keep the item), silent (keep the item) or propagate (refuse the payload).")]
    public ErrorMode ErrorMode { get; init; } = ErrorMode.Propagate;

    public FilterTracesConfig Traces { get; init; } = new();

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
    [ConfigDescription("Conditions on spans; a span matching any is dropped.")]
    public IReadOnlyList<string> Span { get; init; } = [];

    [ConfigKey("spanevent")]
    [ConfigDescription("Conditions on span events; a matching event is removed from its span.")]
    public IReadOnlyList<string> SpanEvent { get; init; } = [];
}

public sealed record FilterMetricsConfig
{
    [ConfigDescription("Conditions on metrics; a matching metric is dropped with all its data points.")]
    public IReadOnlyList<string> Metric { get; init; } = [];

    [ConfigKey("datapoint")]
    [ConfigDescription("Conditions on data points; matching points are dropped, and metrics left without points are removed.")]
    public IReadOnlyList<string> DataPoint { get; init; } = [];
}

public sealed record FilterLogsConfig
{
    [ConfigDescription("Conditions on log records; a matching record is dropped.")]
    public IReadOnlyList<string> LogRecord { get; init; } = [];
}

/// <summary>The compiled conditions of a filter config, one array per context (empty when unused).</summary>
internal sealed record CompiledFilter(
    OttlCondition[] Spans, OttlCondition[] SpanEvents, OttlCondition[] Metrics, OttlCondition[] DataPoints, OttlCondition[] LogRecords)
{
    public static CompiledFilter Compile(FilterConfig config, List<ConfigError> errors) => new(
        Conditions(config.Traces.Span, OttlContextKind.Span, "traces.span", errors),
        Conditions(config.Traces.SpanEvent, OttlContextKind.SpanEvent, "traces.spanevent", errors),
        Conditions(config.Metrics.Metric, OttlContextKind.Metric, "metrics.metric", errors),
        Conditions(config.Metrics.DataPoint, OttlContextKind.DataPoint, "metrics.datapoint", errors),
        Conditions(config.Logs.LogRecord, OttlContextKind.Log, "logs.log_record", errors));

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
