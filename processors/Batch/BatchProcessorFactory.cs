using OtelAi.Engine.Components;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Engine.Consumers;
using OtelAi.Otlp;
using OtelAi.Processors.Common;

namespace OtelAi.Processors.Batch;

public sealed class BatchProcessorFactory : ProcessorFactory<BatchConfig>
{
    public override string Type => "batch";

    protected override IEnumerable<SelfMetric> OwnSelfMetrics =>
        [.. ProcessorMetrics.Declared(Stability.Keys), SizeTriggerSend, TimeoutTriggerSend, MetadataCardinality];

    internal static readonly SelfMetric SizeTriggerSend = SelfMetric.Counter("otelcol_processor_batch_batch_size_trigger_send",
        "Number of times the batch was sent due to a size trigger", "processor");

    internal static readonly SelfMetric TimeoutTriggerSend = SelfMetric.Counter("otelcol_processor_batch_timeout_trigger_send",
        "Number of times the batch was sent due to a timeout trigger", "processor");

    internal static readonly SelfMetric MetadataCardinality = SelfMetric.Gauge("otelcol_processor_batch_metadata_cardinality",
        "Number of distinct metadata value combinations being processed", "processor");

    public override IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; } = new Dictionary<Signal, StabilityLevel>
    {
        [Signal.Traces] = StabilityLevel.Beta,
        [Signal.Metrics] = StabilityLevel.Beta,
        [Signal.Logs] = StabilityLevel.Beta,
    };

    protected override IProcessor<T> Create<T>(ComponentCreateSettings settings, BatchConfig config, ITelemetryConsumer<T> next) =>
        new BatchProcessor<T>(settings, config, next);
}
