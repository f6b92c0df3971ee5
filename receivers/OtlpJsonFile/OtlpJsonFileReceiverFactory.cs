using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Telemetry;

namespace OtelAi.Receivers.OtlpJsonFile;

/// <summary>otelcol-contrib's <c>otlpjsonfile</c> receiver (alpha for traces, metrics and logs).</summary>
public sealed class OtlpJsonFileReceiverFactory : IReceiverFactory
{
    public string Type => "otlpjsonfile";
    public ComponentKind Kind => ComponentKind.Receiver;
    public Type ConfigType => typeof(OtlpJsonFileReceiverConfig);

    public IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; } = new Dictionary<Signal, StabilityLevel>
    {
        [Signal.Traces] = StabilityLevel.Alpha,
        [Signal.Metrics] = StabilityLevel.Alpha,
        [Signal.Logs] = StabilityLevel.Alpha,
    };

    public ComponentConfig CreateDefaultConfig() => new OtlpJsonFileReceiverConfig();

    public IComponent CreateReceiver(ComponentCreateSettings settings, ComponentConfig config, ReceiverConsumers consumers) =>
        new OtlpJsonFileReceiver(settings, (OtlpJsonFileReceiverConfig)config, consumers);
}
