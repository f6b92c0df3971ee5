using OtelAi.Otlp.Protobuf;
using System.Diagnostics;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using OtelAi.Engine.Components;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.Extensions.Storage;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Otlp;

namespace OtelAi.Engine.Exporter;

/// <summary>
/// otelcol's exporterhelper around one <see cref="IExportSender{T}"/>: sending queue (memory or persistent),
/// consumers, per-attempt timeout, retry with exponential backoff and jitter (the server's throttle hint is the
/// minimum next wait), self-metrics and logs. With the queue disabled, ConsumeAsync sends (with retries) while
/// the caller waits and returns the failure to it.
/// </summary>
public sealed class QueuedRetryExporter<T> : IExporter<T> where T : class, IMessage<T>, new()
{
    private readonly ComponentCreateSettings _settings;
    private readonly ExporterHelperOptions _options;
    private readonly IExportSender<T> _sender;
    private readonly ExporterMetrics _metrics;
    private readonly OtlpSignal<T> _ops = OtlpSignal<T>.Instance;
    private readonly CancellationTokenSource _stopSending = new();
    private readonly Func<TimeSpan, CancellationToken, Task> _delay;
    private IRequestQueue<T>? _queue;
    private IStorageClient? _storageClient;
    private Task[] _consumers = [];

    public QueuedRetryExporter(ComponentCreateSettings settings, ExporterHelperOptions options, IExportSender<T> sender)
        : this(settings, options, sender, Task.Delay)
    {
    }

    /// <summary><paramref name="delay"/> replaces Task.Delay between attempts (tests record the waits).</summary>
    internal QueuedRetryExporter(ComponentCreateSettings settings, ExporterHelperOptions options, IExportSender<T> sender, Func<TimeSpan, CancellationToken, Task> delay)
    {
        _settings = settings;
        _options = options;
        _sender = sender;
        _delay = delay;
        _metrics = new ExporterMetrics(settings.Metrics, settings.Id, _ops.Signal);
    }

    /// <summary>
    /// A memory queue keeps the caller's object after ConsumeAsync returns and only reads it, so under fan-out it
    /// shares the data with other readers but never with a consumer that changes it. A persistent queue stores the
    /// bytes during the call, and without a queue the request is sent during the call: both only read.
    /// </summary>
    public ConsumerCapabilities Capabilities => _options.Queue is { Enabled: true, Storage: null } ? ConsumerCapabilities.Retains : ConsumerCapabilities.ReadOnly;

    internal long QueueSize => _queue?.Size ?? 0;

    public async Task StartAsync(IComponentHost host, CancellationToken cancellationToken)
    {
        var queueConfig = _options.Queue;
        if (!queueConfig.Enabled) return;
        if (queueConfig.Storage is { } storageId)
        {
            if (host.GetExtension(storageId) is not IStorageExtension storage)
                throw new InvalidOperationException($"sending_queue.storage: \"{storageId}\" is not a configured storage extension (add it under extensions and service.extensions)");
            _storageClient = await storage.GetClientAsync(ComponentKind.Exporter, _settings.Id, _ops.Signal.ToConfigName(), cancellationToken);
            _queue = await PersistentRequestQueue<T>.OpenAsync(_storageClient, queueConfig.QueueSize, queueConfig.Blocking, _settings.Logger, cancellationToken);
        }
        else
        {
            Func<T, long> sizeOf = queueConfig.Sizer switch
            {
                QueueSizer.Items => data => _ops.CountItems(data),
                QueueSizer.Bytes => data => OtlpProtobuf.CalculateSize(data),
                _ => _ => 1,
            };
            _queue = new MemoryRequestQueue<T>(queueConfig.QueueSize, sizeOf, queueConfig.Blocking);
        }
        var queue = _queue;
        _metrics.ObserveQueue(() => queue.Size, queueConfig.QueueSize);
        _consumers = Enumerable.Range(0, queueConfig.NumConsumers).Select(_ => Task.Run(() => ConsumeQueueAsync(queue))).ToArray();
    }

    public async ValueTask ConsumeAsync(T data, CancellationToken cancellationToken)
    {
        if (_queue is null && !_options.Queue.Enabled)
        {
            await SendNowAsync(data, cancellationToken);
            return;
        }
        if (_queue is null) throw new RetryableDataException($"exporter {_settings.Id} is not started");
        try
        {
            await _queue.OfferAsync(data, cancellationToken);
        }
        catch (Exception ex) when (ex is RetryableDataException or PermanentDataException)
        {
            _metrics.EnqueueFailed(_ops.CountItems(data));
            throw;
        }
    }

    public async Task ShutdownAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (_queue is not null) await StopQueueAsync(_queue, cancellationToken);
        }
        finally
        {
            // The helper owns its sender (connections, handlers).
            if (_sender is IAsyncDisposable asyncDisposable) await asyncDisposable.DisposeAsync();
            else if (_sender is IDisposable disposable) disposable.Dispose();
        }
    }

    private async Task StopQueueAsync(IRequestQueue<T> queue, CancellationToken cancellationToken)
    {
        queue.Close();
        var persistent = _storageClient is not null;
        if (persistent)
        {
            // What is not sent yet stays on disk; in-flight requests are re-sent after the next start.
            await _stopSending.CancelAsync();
        }
        var drained = Task.WhenAll(_consumers);
        try
        {
            await drained.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            await _stopSending.CancelAsync();
            await drained;
        }
        if (!persistent)
        {
            // The queue is closed, so taking ends once it is empty: whatever is left could not be sent in time.
            long droppedRequests = 0, droppedItems = 0;
            while (await queue.TakeAsync(CancellationToken.None) is { } left)
            {
                droppedRequests++;
                droppedItems += _ops.CountItems(left.Request);
            }
            if (droppedRequests > 0)
            {
                _metrics.SendFailed(droppedItems);
                _settings.Logger.LogError("exporter {Exporter}: shutdown timed out with {Requests} requests ({Items} items) still queued; they are dropped",
                    _settings.Id, droppedRequests, droppedItems);
            }
        }
        if (_storageClient is not null) await _storageClient.DisposeAsync();
    }

    private async Task SendNowAsync(T data, CancellationToken cancellationToken)
    {
        var items = _ops.CountItems(data);
        try
        {
            var result = await SendWithRetryAsync(data, cancellationToken);
            RecordSent(items, result);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _metrics.SendFailed(items);
            _settings.Logger.LogError("exporter {Exporter}: exporting failed: {Error}", _settings.Id, ex.Message);
            if (ex is PermanentDataException or RetryableDataException) throw;
            throw new RetryableDataException(ex.Message, inner: ex);
        }
    }

    private async Task ConsumeQueueAsync(IRequestQueue<T> queue)
    {
        while (true)
        {
            QueuedRequest<T>? taken;
            try
            {
                taken = await queue.TakeAsync(_stopSending.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            if (taken is null) return;

            var items = _ops.CountItems(taken.Request);
            try
            {
                var result = await SendWithRetryAsync(taken.Request, _stopSending.Token);
                RecordSent(items, result);
            }
            catch (OperationCanceledException) when (_stopSending.IsCancellationRequested)
            {
                if (_storageClient is not null) return; // stays in storage as in flight: sent again after restart
                _metrics.SendFailed(items);
                _settings.Logger.LogError("exporter {Exporter}: shutdown interrupted sending {Items} items; they are dropped", _settings.Id, items);
            }
            catch (Exception ex)
            {
                _metrics.SendFailed(items);
                _settings.Logger.LogError("exporter {Exporter}: exporting failed, dropping {Items} items: {Error}", _settings.Id, items, ex.Message);
            }
            await queue.CompleteAsync(taken);
        }
    }

    private void RecordSent(long items, SendResult result)
    {
        if (result.RejectedItems <= 0)
        {
            _metrics.Sent(items);
            // OTLP: a partial_success with nothing rejected but a message is a warning from the destination.
            if (!string.IsNullOrEmpty(result.Message))
                _settings.Logger.LogWarning("exporter {Exporter}: the destination accepted {Items} items with a warning: {Message}", _settings.Id, items, result.Message);
            return;
        }
        var rejected = Math.Min(result.RejectedItems, items);
        _metrics.Sent(items - rejected);
        _metrics.SendFailed(rejected);
        _settings.Logger.LogWarning("exporter {Exporter}: partial success, the destination rejected {Rejected} of {Items} items: {Message}",
            _settings.Id, rejected, items, result.Message ?? "");
    }

    /// <summary>
    /// Attempts until success, a permanent error, or the retry budget is spent. Cancellation of
    /// <paramref name="cancellationToken"/> surfaces as <see cref="OperationCanceledException"/>.
    /// </summary>
    internal async Task<SendResult> SendWithRetryAsync(T request, CancellationToken cancellationToken)
    {
        var retry = _options.Retry;
        var elapsed = Stopwatch.StartNew();
        var interval = retry.InitialInterval;
        for (var attempt = 1; ; attempt++)
        {
            Exception failure;
            try
            {
                return await AttemptAsync(request, cancellationToken);
            }
            catch (PermanentDataException)
            {
                throw;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex)
            {
                failure = ex;
            }

            if (!retry.Enabled) throw failure;
            var wait = Jitter(interval, retry.RandomizationFactor);
            interval = TimeSpan.FromTicks(Math.Min((long)(interval.Ticks * retry.Multiplier), retry.MaxInterval.Ticks));
            var throttle = (failure as RetryableDataException)?.RetryAfter;
            if (throttle > wait) wait = throttle.Value;
            if (retry.MaxElapsedTime > TimeSpan.Zero && elapsed.Elapsed + wait > retry.MaxElapsedTime)
                throw new RetryableDataException($"no more retries left after {attempt} attempts in {elapsed.Elapsed.TotalSeconds:0.#}s: {failure.Message}",
                    (failure as RetryableDataException)?.RetryAfter, inner: failure);
            _settings.Logger.LogInformation("exporter {Exporter}: attempt {Attempt} failed ({Error}); retrying in {Wait:0.###}s",
                _settings.Id, attempt, failure.Message, wait.TotalSeconds);
            await _delay(wait, cancellationToken);
        }
    }

    private async Task<SendResult> AttemptAsync(T request, CancellationToken cancellationToken)
    {
        if (_options.Timeout <= TimeSpan.Zero) return await _sender.SendAsync(request, cancellationToken);
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        attempt.CancelAfter(_options.Timeout);
        try
        {
            return await _sender.SendAsync(request, attempt.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new RetryableDataException($"request timed out after {_options.Timeout.TotalSeconds:0.###}s");
        }
    }

    private static TimeSpan Jitter(TimeSpan interval, double factor)
    {
        if (factor <= 0) return interval;
        var delta = factor * interval.Ticks;
        var min = interval.Ticks - delta;
        return TimeSpan.FromTicks((long)(min + Random.Shared.NextDouble() * (2 * delta)));
    }
}
