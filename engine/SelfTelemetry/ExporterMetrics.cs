using OtelAi.Engine.Components;
using OtelAi.Otlp;

namespace OtelAi.Engine.SelfTelemetry;

/// <summary>otelcol's exporter metrics: sent, send_failed, enqueue_failed, queue_size, queue_capacity, labelled by exporter.</summary>
public sealed class ExporterMetrics
{
    private readonly MetricRegistry _registry;
    private readonly string _exporter;
    private readonly Signal _signal;
    private readonly Counter _sent;
    private readonly Counter _sendFailed;
    private readonly Counter _enqueueFailed;
    private readonly Histogram _requestDuration;
    private readonly Counter _retries;

    public ExporterMetrics(MetricRegistry registry, ComponentId exporter, Signal signal)
    {
        _registry = registry;
        _exporter = exporter.ToString();
        _signal = signal;
        var labels = ("exporter", _exporter);
        _sent = registry.Counter(SentMetric(signal), labels);
        _sendFailed = registry.Counter(SendFailedMetric(signal), labels);
        _enqueueFailed = registry.Counter(EnqueueFailedMetric(signal), labels);
        _requestDuration = registry.Histogram(RequestDuration, labels);
        _retries = registry.Counter(Retries, labels);
    }

    private static readonly SelfMetric RequestDuration = SelfMetric.Histogram("otelai_exporter_request_duration_milliseconds",
        "Time from a request's first attempt to its outcome (sent, rejected or given up), retries included.",
        [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000], "exporter");

    private static readonly SelfMetric Retries = SelfMetric.Counter("otelai_exporter_retries",
        "Attempts that failed retryably and were tried again after a backoff.", "exporter");

    private static readonly SelfMetric QueueSize = SelfMetric.Gauge("otelcol_exporter_queue_size", "Current size of the retry queue (in batches).", "exporter", "data_type");
    private static readonly SelfMetric QueueCapacity = SelfMetric.Gauge("otelcol_exporter_queue_capacity", "Fixed capacity of the retry queue (in batches).", "exporter", "data_type");

    /// <summary>What an exporter built on the exporter helper emits for the signals it supports (queue gauges when its queue is on).</summary>
    public static IEnumerable<SelfMetric> Declared(IEnumerable<Signal> signals) =>
        signals.SelectMany(signal => new[] { SentMetric(signal), SendFailedMetric(signal), EnqueueFailedMetric(signal) })
            .Concat([QueueSize, QueueCapacity, RequestDuration, Retries]);

    private static SelfMetric SentMetric(Signal signal) => SelfMetric.ForSignal(signal, SelfMetricKind.Counter,
        "otelcol_exporter_sent_{items}", "Number of {items} successfully sent to destination.", "exporter");

    private static SelfMetric SendFailedMetric(Signal signal) => SelfMetric.ForSignal(signal, SelfMetricKind.Counter,
        "otelcol_exporter_send_failed_{items}", "Number of {items} in failed attempts to send to destination.", "exporter");

    private static SelfMetric EnqueueFailedMetric(Signal signal) => SelfMetric.ForSignal(signal, SelfMetricKind.Counter,
        "otelcol_exporter_enqueue_failed_{items}", "Number of {items} failed to be added to the sending queue.", "exporter");

    public void Sent(long items) => _sent.Add(items);

    public void SendFailed(long items) => _sendFailed.Add(items);

    public void EnqueueFailed(long items) => _enqueueFailed.Add(items);

    public void RequestDone(TimeSpan duration) => _requestDuration.Record(duration.TotalMilliseconds);

    public void Retried() => _retries.Add(1);

    /// <summary>Registers the queue gauges (otelcol_exporter_queue_size / _capacity), read at scrape time.</summary>
    public void ObserveQueue(Func<long> size, long capacity)
    {
        var labels = new[] { ("exporter", _exporter), ("data_type", _signal.ToConfigName()) };
        _registry.Gauge(QueueSize, () => size(), labels);
        _registry.Gauge(QueueCapacity, () => capacity, labels);
    }
}
