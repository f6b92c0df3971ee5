using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Consumers;
using OtelAi.Otlp;
using OtelAi.Processors.Common;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;

namespace OtelAi.Processors.ResourceProcessor;

[ConfigDescription("Applies attribute actions to resource attributes of every signal (otelcol-contrib's resource processor).")]
public sealed record ResourceConfig : ComponentConfig
{
    [ConfigDescription("Actions applied in order to each resource's attributes (same fields as the attributes processor's actions).")]
    public List<AttributeActionConfig> Attributes { get; init; } = [];

    public override IEnumerable<ConfigError> Validate()
    {
        if (Attributes.Count == 0) yield return new ConfigError("attributes", "missing required field \"attributes\"");
        foreach (var error in AttributeActions.Validate(Attributes, "attributes")) yield return error;
    }
}

public sealed class ResourceProcessorFactory : ProcessorFactory<ResourceConfig>
{
    public override string Type => "resource";

    public override IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; } = new Dictionary<Signal, StabilityLevel>
    {
        [Signal.Traces] = StabilityLevel.Beta,
        [Signal.Metrics] = StabilityLevel.Beta,
        [Signal.Logs] = StabilityLevel.Beta,
    };

    protected override IProcessor<T> Create<T>(ComponentCreateSettings settings, ResourceConfig config, ITelemetryConsumer<T> next) =>
        new InPlaceProcessor<T>((IPayloadMutator<T>)(object)new ResourceMutator(AttributeActions.Compile(config.Attributes)), next);
}

internal sealed class ResourceMutator(AttributeActions actions)
    : IPayloadMutator<ExportTraceServiceRequest>, IPayloadMutator<ExportLogsServiceRequest>, IPayloadMutator<ExportMetricsServiceRequest>
{
    public void Mutate(ExportTraceServiceRequest data)
    {
        var client = ClientContext.Current;
        foreach (var rs in data.ResourceSpans) actions.Apply((rs.Resource ??= new OtelAi.Otlp.Proto.Resource.V1.Resource()).Attributes, client);
    }

    public void Mutate(ExportLogsServiceRequest data)
    {
        var client = ClientContext.Current;
        foreach (var rl in data.ResourceLogs) actions.Apply((rl.Resource ??= new OtelAi.Otlp.Proto.Resource.V1.Resource()).Attributes, client);
    }

    public void Mutate(ExportMetricsServiceRequest data)
    {
        var client = ClientContext.Current;
        foreach (var rm in data.ResourceMetrics) actions.Apply((rm.Resource ??= new OtelAi.Otlp.Proto.Resource.V1.Resource()).Attributes, client);
    }
}
