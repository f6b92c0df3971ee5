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
            _dropped[(int)signal] = registry.Counter($"otelcol_processor_dropped_{signal.ItemName()}",
                $"Number of {signal.ItemName().Replace('_', ' ')} that were dropped.", ("processor", processor.ToString()));
    }

    public void Dropped(Signal signal, long items) => _dropped[(int)signal].Add(items);
}
