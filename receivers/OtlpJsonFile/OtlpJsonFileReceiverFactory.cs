using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Otlp;

namespace OtelAi.Receivers.OtlpJsonFile;

/// <summary>otelcol-contrib's <c>otlpjsonfile</c> receiver (alpha for traces, metrics and logs).</summary>
public sealed class OtlpJsonFileReceiverFactory : ReceiverFactory<OtlpJsonFileReceiverConfig>
{
    public override string Type => "otlpjsonfile";

    public override IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; } = AllSignals(StabilityLevel.Alpha);

    protected override IComponent Create(ComponentCreateSettings settings, OtlpJsonFileReceiverConfig config, ReceiverConsumers consumers) =>
        new OtlpJsonFileReceiver(settings, config, consumers);
}
