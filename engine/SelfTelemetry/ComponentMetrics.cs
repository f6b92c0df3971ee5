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

/// <summary>otelcol's exporter metrics: sent, send_failed, enqueue_failed, queue_size, queue_capacity, labelled by exporter.</summary>
public sealed class ExporterMetrics
{
    private readonly MetricRegistry _registry;
    private readonly string _exporter;
    private readonly Signal _signal;
    private readonly Counter _sent;
    private readonly Counter _sendFailed;
    private readonly Counter _enqueueFailed;

    public ExporterMetrics(MetricRegistry registry, ComponentId exporter, Signal signal)
    {
        _registry = registry;
        _exporter = exporter.ToString();
        _signal = signal;
        var items = signal.ItemName();
        var labels = ("exporter", _exporter);
        _sent = registry.Counter($"otelcol_exporter_sent_{items}", $"Number of {items.Replace('_', ' ')} successfully sent to destination.", labels);
        _sendFailed = registry.Counter($"otelcol_exporter_send_failed_{items}", $"Number of {items.Replace('_', ' ')} in failed attempts to send to destination.", labels);
        _enqueueFailed = registry.Counter($"otelcol_exporter_enqueue_failed_{items}", $"Number of {items.Replace('_', ' ')} failed to be added to the sending queue.", labels);
    }

    public void Sent(long items) => _sent.Add(items);

    public void SendFailed(long items) => _sendFailed.Add(items);

    public void EnqueueFailed(long items) => _enqueueFailed.Add(items);

    /// <summary>Registers the queue gauges (otelcol_exporter_queue_size / _capacity), read at scrape time.</summary>
    public void ObserveQueue(Func<long> size, long capacity)
    {
        var labels = new[] { ("exporter", _exporter), ("data_type", _signal.ToConfigName()) };
        _registry.Gauge("otelcol_exporter_queue_size", "Current size of the retry queue (in batches).", () => size(), labels);
        _registry.Gauge("otelcol_exporter_queue_capacity", "Fixed capacity of the retry queue (in batches).", () => capacity, labels);
    }
}

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
