using Google.Protobuf;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Consumers;
using OtelAi.Otlp;
using OtelAi.Processors.Common;
using OtelAi.Processors.Ottl;

namespace OtelAi.Processors.Transform;

/// <summary>otelcol's <c>transform</c> processor: OTTL statements compiled once, run on every payload in order.</summary>
public sealed class TransformProcessorFactory : ProcessorFactory<TransformConfig>
{
    public override string Type => "transform";

    public override IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; } = new Dictionary<Signal, StabilityLevel>
    {
        [Signal.Traces] = StabilityLevel.Beta,
        [Signal.Metrics] = StabilityLevel.Beta,
        [Signal.Logs] = StabilityLevel.Beta,
    };

    protected override IProcessor<T> Create<T>(ComponentCreateSettings settings, TransformConfig config, ITelemetryConsumer<T> next)
    {
        var errors = new List<ConfigError>();
        var groups = config.Compile(OtlpSignal<T>.Instance.Signal, settings.Logger, errors);
        if (errors.Count > 0)
            throw new ArgumentException($"processor \"{settings.Id}\": " + string.Join("; ", errors.Select(e => $"{e.Path}: {e.Message}")));
        return new InPlaceProcessor<T>(new StatementRunner<T>(groups), next);
    }

    /// <summary>Runs every group over the payload, in config order (each group sees the previous groups' changes).</summary>
    private sealed class StatementRunner<T>(IReadOnlyList<OttlStatementGroup> groups) : IPayloadMutator<T>
        where T : class, IMessage<T>, new()
    {
        public void Mutate(T data)
        {
            if (groups.Count == 0) return;
            // One context per payload: payloads may be processed concurrently, items of one payload are not.
            var context = new OttlContext();
            foreach (var group in groups) group.ExecuteOn(data, context);
        }
    }
}
