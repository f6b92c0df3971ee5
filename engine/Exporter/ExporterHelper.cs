using Google.Protobuf;
using Microsoft.Extensions.Logging;
using OtelAi.Engine.Components;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Otlp;

namespace OtelAi.Engine.Exporter;

/// <summary>
/// otelcol's exporterhelper around one <see cref="IExportSender{T}"/>, as a chain of small links:
/// <see cref="QueueSender{T}"/> (sending_queue) → <see cref="MetricsSender{T}"/> (sent / send_failed) →
/// <see cref="RetrySender{T}"/> (retry_on_failure) → <see cref="TimeoutSender{T}"/> (timeout) → the exporter's sender.
/// With the queue disabled, ConsumeAsync sends (with retries) while the caller waits and returns the failure to it.
/// </summary>
public sealed class ExporterHelper<T> : IExporter<T> where T : class, IMessage<T>, new()
{
    private readonly ComponentCreateSettings _settings;
    private readonly IExportSender<T> _sender;
    private readonly IExportSender<T> _send;
    private readonly QueueSender<T>? _queue;
    private readonly ComponentStatusReporter _status;

    public ExporterHelper(ComponentCreateSettings settings, ExporterHelperOptions options, IExportSender<T> sender)
        : this(settings, options, sender, Task.Delay)
    {
    }

    /// <summary><paramref name="delay"/> replaces Task.Delay between attempts (tests record the waits).</summary>
    internal ExporterHelper(ComponentCreateSettings settings, ExporterHelperOptions options, IExportSender<T> sender, Func<TimeSpan, CancellationToken, Task> delay)
    {
        _settings = settings;
        _sender = sender;
        var metrics = new ExporterMetrics(settings.Metrics, settings.Id, OtlpSignal<T>.Instance.Signal);
        _status = new ComponentStatusReporter(settings.Kind, settings.Id);
        _send = new MetricsSender<T>(metrics, settings, _status,
            new RetrySender<T>(options.Retry, settings, metrics, delay,
                new TimeoutSender<T>(options.Timeout, sender)));
        if (options.Queue.Enabled) _queue = new QueueSender<T>(options.Queue, settings, metrics, _send);
    }

    /// <summary>
    /// A memory queue keeps the caller's object after ConsumeAsync returns and only reads it, so under fan-out it
    /// shares the data with other readers but never with a consumer that changes it. A persistent queue stores the
    /// bytes during the call, and without a queue the request is sent during the call: both only read.
    /// </summary>
    public ConsumerCapabilities Capabilities =>
        (_queue is { RetainsRequests: true } ? ConsumerCapabilities.Retains : ConsumerCapabilities.ReadOnly) with { ReadsContent = _sender.ReadsContent };

    internal long QueueSize => _queue?.Size ?? 0;

    public async Task StartAsync(IComponentHost host, CancellationToken cancellationToken)
    {
        _status.Attach(host);
        await _sender.StartAsync(host, cancellationToken);
        if (_queue is not null) await _queue.StartAsync(host, cancellationToken);
    }

    public ValueTask ConsumeAsync(Payload<T> data, CancellationToken cancellationToken) =>
        _queue is not null ? _queue.OfferAsync(data, cancellationToken) : SendNowAsync(data, cancellationToken);

    public async Task ShutdownAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (_queue is not null) await _queue.StopAsync(cancellationToken);
        }
        finally
        {
            // The helper owns its sender (connections, handlers).
            if (_sender is IAsyncDisposable asyncDisposable) await asyncDisposable.DisposeAsync();
            else if (_sender is IDisposable disposable) disposable.Dispose();
        }
    }

    private async ValueTask SendNowAsync(Payload<T> data, CancellationToken cancellationToken)
    {
        try
        {
            await _send.SendAsync(data, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _settings.Logger.LogError("exporter {Exporter}: exporting failed: {Error}", _settings.Id, ex.Message);
            if (ex is PermanentDataException or RetryableDataException) throw;
            throw new RetryableDataException(ex.Message, inner: ex);
        }
    }
}
