using OtelAi.Engine.SelfTelemetry;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Otlp;

namespace OtelAi.Receivers.Ebpf;

/// <summary>The <c>ebpf</c> receiver: spans, metrics and logs from eBPF event streams.</summary>
public sealed class EbpfReceiverFactory : ReceiverFactory<EbpfReceiverConfig>
{
    public override string Type => "ebpf";

    public override IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; } = AllSignals(StabilityLevel.Alpha);

    protected override IEnumerable<SelfMetric> OwnSelfMetrics =>
        [EbpfReceiver.LostEvents, EbpfReceiver.ShortRecords, EbpfReceiver.Records, EbpfReceiver.OutputFailures];

    protected override IComponent Create(ComponentCreateSettings settings, EbpfReceiverConfig config, ReceiverConsumers consumers) =>
        new EbpfReceiver(settings, config, consumers);
}
