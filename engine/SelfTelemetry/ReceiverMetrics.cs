using OtelAi.Engine.Components;
using OtelAi.Otlp;

namespace OtelAi.Engine.SelfTelemetry;

/// <summary>otelcol's receiver metrics: otelcol_receiver_{accepted,refused}_{spans,metric_points,log_records}{receiver,transport}.</summary>
public sealed class ReceiverMetrics
{
    private readonly Counter[] _accepted = new Counter[3];
    private readonly Counter[] _refused = new Counter[3];

    public ReceiverMetrics(MetricRegistry registry, ComponentId receiver, string transport)
    {
        foreach (var signal in Enum.GetValues<Signal>())
        {
            var labels = new[] { ("receiver", receiver.ToString()), ("transport", transport) };
            _accepted[(int)signal] = registry.Counter($"otelcol_receiver_accepted_{signal.ItemName()}",
                $"Number of {signal.ItemName().Replace('_', ' ')} successfully pushed into the pipeline.", labels);
            _refused[(int)signal] = registry.Counter($"otelcol_receiver_refused_{signal.ItemName()}",
                $"Number of {signal.ItemName().Replace('_', ' ')} that could not be pushed into the pipeline.", labels);
        }
    }

    public void Accepted(Signal signal, long items) => _accepted[(int)signal].Add(items);

    public void Refused(Signal signal, long items) => _refused[(int)signal].Add(items);
}
