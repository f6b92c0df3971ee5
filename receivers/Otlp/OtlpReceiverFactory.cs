using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Telemetry;

namespace OtelAi.Receivers.Otlp;

/// <summary>Factory of the <c>otlp</c> receiver (otelcol's otlpreceiver).</summary>
public sealed class OtlpReceiverFactory : IReceiverFactory
{
    public string Type => "otlp";

    public ComponentKind Kind => ComponentKind.Receiver;

    public Type ConfigType => typeof(OtlpReceiverConfig);

    public IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; } = new Dictionary<Signal, StabilityLevel>
    {
        [Signal.Traces] = StabilityLevel.Stable,
        [Signal.Metrics] = StabilityLevel.Stable,
        [Signal.Logs] = StabilityLevel.Stable,
    };

    /// <summary>No protocol until the config names one (<c>grpc:</c> alone enables gRPC with every default), as in otelcol.</summary>
    public ComponentConfig CreateDefaultConfig() => new OtlpReceiverConfig();

    public IComponent CreateReceiver(ComponentCreateSettings settings, ComponentConfig config, ReceiverConsumers consumers) =>
        new OtlpReceiver(settings, (OtlpReceiverConfig)config, consumers);
}
