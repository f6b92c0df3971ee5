using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Telemetry;

namespace OtelAi.Receivers.Ebpf;

/// <summary>The <c>ebpf</c> receiver: spans, metrics and logs from eBPF event streams.</summary>
public sealed class EbpfReceiverFactory : IReceiverFactory
{
    public string Type => "ebpf";

    public ComponentKind Kind => ComponentKind.Receiver;

    public Type ConfigType => typeof(EbpfReceiverConfig);

    public ComponentConfig CreateDefaultConfig() => new EbpfReceiverConfig();

    public IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; } = new Dictionary<Signal, StabilityLevel>
    {
        [Signal.Traces] = StabilityLevel.Alpha,
        [Signal.Metrics] = StabilityLevel.Alpha,
        [Signal.Logs] = StabilityLevel.Alpha,
    };

    public IComponent CreateReceiver(ComponentCreateSettings settings, ComponentConfig config, ReceiverConsumers consumers) =>
        new EbpfReceiver(settings, (EbpfReceiverConfig)config, consumers);
}
