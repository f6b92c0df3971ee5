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
        [.. ProcessorMetrics.Declared(Stability.Keys), SizeTriggerSend, TimeoutTriggerSend, MetadataCardinality, BatchSendSize];

    internal static readonly SelfMetric SizeTriggerSend = SelfMetric.Counter("otelcol_processor_batch_batch_size_trigger_send",
        "Number of times the batch was sent due to a size trigger", "processor");

    internal static readonly SelfMetric TimeoutTriggerSend = SelfMetric.Counter("otelcol_processor_batch_timeout_trigger_send",
        "Number of times the batch was sent due to a timeout trigger", "processor");

    internal static readonly SelfMetric BatchSendSize = SelfMetric.Histogram("otelcol_processor_batch_batch_send_size",
        "Number of units in the batch", [10, 25, 50, 75, 100, 250, 500, 750, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000, 20000, 30000, 50000, 100000], "processor");

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
