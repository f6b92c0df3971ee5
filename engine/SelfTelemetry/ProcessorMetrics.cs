using OtelAi.Engine.Components;
using OtelAi.Otlp;

namespace OtelAi.Engine.SelfTelemetry;

/// <summary>otelcol_processor_dropped_{items}{processor}: items a processor deliberately dropped or refused.</summary>
public sealed class ProcessorMetrics
{
    private readonly Counter[] _dropped = new Counter[3];

    public ProcessorMetrics(MetricRegistry registry, ComponentId processor)
    {
        foreach (var signal in Enum.GetValues<Signal>())
            _dropped[(int)signal] = registry.Counter(DroppedMetric(signal), ("processor", processor.ToString()));
    }

    /// <summary>What a processor that drops data emits for the signals it supports.</summary>
    public static IEnumerable<SelfMetric> Declared(IEnumerable<Signal> signals) => signals.Select(DroppedMetric);

    private static SelfMetric DroppedMetric(Signal signal) =>
        SelfMetric.ForSignal(signal, SelfMetricKind.Counter, "otelcol_processor_dropped_{items}", "Number of {items} that were dropped.", "processor");

    public void Dropped(Signal signal, long items) => _dropped[(int)signal].Add(items);
}
