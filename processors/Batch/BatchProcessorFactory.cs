using OtelAi.Engine.Components;
using OtelAi.Engine.Consumers;
using OtelAi.Otlp;
using OtelAi.Processors.Common;

namespace OtelAi.Processors.Batch;

public sealed class BatchProcessorFactory : ProcessorFactory<BatchConfig>
{
    public override string Type => "batch";

    public override IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; } = new Dictionary<Signal, StabilityLevel>
    {
        [Signal.Traces] = StabilityLevel.Beta,
        [Signal.Metrics] = StabilityLevel.Beta,
        [Signal.Logs] = StabilityLevel.Beta,
    };

    protected override IProcessor<T> Create<T>(ComponentCreateSettings settings, BatchConfig config, ITelemetryConsumer<T> next) =>
        new BatchProcessor<T>(settings, config, next);
}
