using Google.Protobuf;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Consumers;
using OtelAi.Otlp;
using OtelAi.Processors.Common;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Metrics.V1;

namespace OtelAi.Processors.AttributesProcessor;

[ConfigDescription("Inserts, updates, deletes, hashes, extracts or converts attributes of spans, log records and metric data points, optionally only for items matching include/exclude (otelcol-contrib's attributes processor).")]
public sealed record AttributesConfig : ComponentConfig
{
    [ConfigDescription("Actions applied in order to each item's attributes.")]
    public List<AttributeActionConfig> Actions { get; init; } = [];

    [ConfigDescription("Only items matching these properties are processed.")]
    public MatchProperties? Include { get; init; }

    [ConfigDescription("Items matching these properties are not processed (checked after include).")]
    public MatchProperties? Exclude { get; init; }

    public override IEnumerable<ConfigError> Validate()
    {
        if (Actions.Count == 0) yield return new ConfigError("actions", "missing required field \"actions\"");
        foreach (var error in AttributeActions.Validate(Actions, "actions")) yield return error;
        // Which include/exclude properties are allowed depends on the pipeline's signal; spans accept the widest
        // set except log fields, so check the shape common to all when the config is loaded and the rest at creation.
        if (Include?.MatchType is { } includeType && includeType is not ("strict" or "regexp"))
            yield return new ConfigError("include.match_type", $"unrecognized match_type: '{includeType}', valid types are: [regexp strict]");
        if (Exclude?.MatchType is { } excludeType && excludeType is not ("strict" or "regexp"))
            yield return new ConfigError("exclude.match_type", $"unrecognized match_type: '{excludeType}', valid types are: [regexp strict]");
    }
}

public sealed class AttributesProcessorFactory : ProcessorFactory<AttributesConfig>
{
    public override string Type => "attributes";

    public override IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; } = new Dictionary<Signal, StabilityLevel>
    {
        [Signal.Traces] = StabilityLevel.Beta,
        [Signal.Metrics] = StabilityLevel.Beta,
        [Signal.Logs] = StabilityLevel.Beta,
    };

    protected override IProcessor<T> Create<T>(ComponentCreateSettings settings, AttributesConfig config, ITelemetryConsumer<T> next)
    {
        var signal = OtlpSignal<T>.Instance.Signal;
        var target = signal switch { Signal.Traces => MatchTarget.Spans, Signal.Logs => MatchTarget.Logs, _ => MatchTarget.Metrics };
        var errors = IncludeExclude.Validate(config.Include, config.Exclude, target).ToList();
        if (errors.Count > 0)
            throw new ArgumentException($"processor \"{settings.Id}\" in a {signal.ToConfigName()} pipeline: " +
                                        string.Join("; ", errors.Select(e => $"{e.Path}: {e.Message}")));
        var mutator = new AttributesMutator(AttributeActions.Compile(config.Actions),
            IncludeExclude.Compile(config.Include, config.Exclude, target));
        return new InPlaceProcessor<T>((IPayloadMutator<T>)(object)mutator, next);
    }
}

/// <summary>Applies the actions to every span, log record or data point that include/exclude lets through.</summary>
internal sealed class AttributesMutator(AttributeActions actions, IncludeExclude filter)
    : IPayloadMutator<ExportTraceServiceRequest>, IPayloadMutator<ExportLogsServiceRequest>, IPayloadMutator<ExportMetricsServiceRequest>
{
    public void Mutate(ExportTraceServiceRequest data)
    {
        var client = ClientContext.Current;
        foreach (var rs in data.ResourceSpans)
            foreach (var ss in rs.ScopeSpans)
                foreach (var span in ss.Spans)
                    if (filter.IsEmpty || filter.ShouldProcess(rs.Resource, ss.Scope, span))
                        actions.Apply(span.Attributes, client);
    }

    public void Mutate(ExportLogsServiceRequest data)
    {
        var client = ClientContext.Current;
        foreach (var rl in data.ResourceLogs)
            foreach (var sl in rl.ScopeLogs)
                foreach (var log in sl.LogRecords)
                    if (filter.IsEmpty || filter.ShouldProcess(rl.Resource, sl.Scope, log))
                        actions.Apply(log.Attributes, client);
    }

    public void Mutate(ExportMetricsServiceRequest data)
    {
        var client = ClientContext.Current;
        foreach (var rm in data.ResourceMetrics)
            foreach (var sm in rm.ScopeMetrics)
                foreach (var metric in sm.Metrics)
                    if (filter.IsEmpty || filter.ShouldProcess(rm.Resource, metric))
                        foreach (var attributes in MetricPoints.PointAttributes(metric)) actions.Apply(attributes, client);
    }
}
