using OtelAi.Engine.Components;
using OtelAi.Otlp;

namespace OtelAi.Engine.SelfTelemetry;

/// <summary>otelcol's receiver metrics: otelcol_receiver_{accepted,refused}_{spans,metric_points,log_records}{receiver,transport}.</summary>
public sealed class ReceiverMetrics
{
    private readonly Counter?[] _accepted = new Counter?[3];
    private readonly Counter?[] _refused = new Counter?[3];

    /// <param name="signals">The signals the receiver produces (default: all three).</param>
    public ReceiverMetrics(MetricRegistry registry, ComponentId receiver, string transport, IEnumerable<Signal>? signals = null)
    {
        foreach (var signal in signals ?? Enum.GetValues<Signal>())
        {
            var labels = new[] { ("receiver", receiver.ToString()), ("transport", transport) };
            _accepted[(int)signal] = registry.Counter(AcceptedMetric(signal), labels);
            _refused[(int)signal] = registry.Counter(RefusedMetric(signal), labels);
        }
    }

    /// <summary>What every receiver emits for the signals it supports.</summary>
    public static IEnumerable<SelfMetric> Declared(IEnumerable<Signal> signals) => signals.SelectMany(signal => new[] { AcceptedMetric(signal), RefusedMetric(signal) });

    private static SelfMetric AcceptedMetric(Signal signal) => SelfMetric.ForSignal(signal, SelfMetricKind.Counter,
        "otelcol_receiver_accepted_{items}", "Number of {items} successfully pushed into the pipeline.", "receiver", "transport");

    private static SelfMetric RefusedMetric(Signal signal) => SelfMetric.ForSignal(signal, SelfMetricKind.Counter,
        "otelcol_receiver_refused_{items}", "Number of {items} that could not be pushed into the pipeline.", "receiver", "transport");

    public void Accepted(Signal signal, long items) => _accepted[(int)signal]?.Add(items);

    public void Refused(Signal signal, long items) => _refused[(int)signal]?.Add(items);
}
