using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Otlp;

namespace OtelAi.Receivers.Prometheus;

/// <summary>otelcol-contrib's <c>prometheus</c> receiver: scrapes Prometheus targets into the metrics pipelines.</summary>
public sealed class PrometheusReceiverFactory : ReceiverFactory<PrometheusReceiverConfig>
{
    public override string Type => "prometheus";

    public override IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; } = new Dictionary<Signal, StabilityLevel> { [Signal.Metrics] = StabilityLevel.Beta };

    protected override IComponent Create(ComponentCreateSettings settings, PrometheusReceiverConfig config, ReceiverConsumers consumers) =>
        new PrometheusReceiver(settings, config, consumers);
}
