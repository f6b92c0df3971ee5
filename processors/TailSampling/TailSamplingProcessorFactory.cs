using OtelAi.Engine.Components;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Collector.Trace.V1;

namespace OtelAi.Processors.TailSampling;

public sealed class TailSamplingProcessorFactory : ProcessorFactory<TailSamplingConfig>
{
    public override string Type => "tail_sampling";

    public override IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; } = new Dictionary<Signal, StabilityLevel>
    {
        [Signal.Traces] = StabilityLevel.Beta,
    };

    internal static readonly SelfMetric CountTracesSampled = SelfMetric.Counter("otelcol_processor_tail_sampling_count_traces_sampled",
        "Count of traces that were sampled or not per sampling policy", "processor", "policy", "sampled");
    internal static readonly SelfMetric GlobalCountTracesSampled = SelfMetric.Counter("otelcol_processor_tail_sampling_global_count_traces_sampled",
        "Global count of traces that were sampled or not by at least one policy", "processor", "sampled");
    internal static readonly SelfMetric TraceDroppedTooEarly = SelfMetric.Counter("otelcol_processor_tail_sampling_sampling_trace_dropped_too_early",
        "Count of traces that needed to be dropped before the configured wait time (maximum_trace_size_bytes)", "processor");
    internal static readonly SelfMetric NewTraceIdReceived = SelfMetric.Counter("otelcol_processor_tail_sampling_new_trace_id_received",
        "Counts the arrival of new traces", "processor");
    internal static readonly SelfMetric TracesOnMemory = SelfMetric.Gauge("otelcol_processor_tail_sampling_sampling_traces_on_memory",
        "Tracks the number of traces current on memory", "processor");
    internal static readonly SelfMetric DecidedEarly = SelfMetric.Counter("otelai_processor_tail_sampling_traces_decided_early",
        "Traces decided before decision_wait, on the spans received (not dropped), because num_traces or max_buffered_bytes was reached", "processor", "reason");
    internal static readonly SelfMetric LateSpans = SelfMetric.Counter("otelai_processor_tail_sampling_late_spans",
        "Spans that arrived after their trace was decided and followed its decision", "processor");

    /// <summary>otelcol-contrib's gate: a kept trace's spans name the policy (and composite sub-policy) that kept it.</summary>
    public static FeatureGate RecordPolicy { get; } = new("processor.tailsamplingprocessor.recordpolicy", FeatureGateStage.Alpha,
        "When enabled, attaches the name of the policy (and if applicable, composite policy) responsible for sampling a trace in the 'tailsampling.policy'/'tailsampling.composite_policy' attributes.")
    {
        FromVersion = "1.0.0",
    };

    public override IReadOnlyList<FeatureGate> FeatureGates => [RecordPolicy];

    protected override IEnumerable<SelfMetric> OwnSelfMetrics =>
        [CountTracesSampled, GlobalCountTracesSampled, TraceDroppedTooEarly, NewTraceIdReceived, TracesOnMemory, DecidedEarly, LateSpans];

    protected override IProcessor<T> Create<T>(ComponentCreateSettings settings, TailSamplingConfig config, ITelemetryConsumer<T> next) =>
        (IProcessor<T>)(object)new TailSamplingProcessor(settings, config, (ITelemetryConsumer<ExportTraceServiceRequest>)(object)next);
}
