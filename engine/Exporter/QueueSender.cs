using Google.Protobuf;
using Microsoft.Extensions.Logging;
using OtelAi.Engine.Components;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.Extensions.Storage;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Otlp;
using OtelAi.Otlp.Protobuf;

namespace OtelAi.Engine.Exporter;

/// <summary>
/// otelcol's <c>sending_queue</c>, the outermost link of the exporter helper: requests wait in a memory or persistent
/// queue for one of <c>num_consumers</c> consumers, which hand them to the rest of the chain with the client info of
/// the call that queued them. A full queue refuses (or, with <c>blocking</c>, waits); refusals count as enqueue_failed.
/// </summary>
internal sealed class QueueSender<T> where T : class, IMessage<T>, new()
{
    private readonly QueueConfig _config;
    private readonly ComponentCreateSettings _settings;
    private readonly ExporterMetrics _metrics;
    private readonly IExportSender<T> _next;
    private readonly OtlpSignal<T> _signal = OtlpSignal<T>.Instance;
    private readonly CancellationTokenSource _stopSending = new();
    private IRequestQueue<T>? _queue;
    private IStorageClient? _storageClient;
    private Task[] _consumers = [];

    public QueueSender(QueueConfig config, ComponentCreateSettings settings, ExporterMetrics metrics, IExportSender<T> next)
    {
        _config = config;
        _settings = settings;
        _metrics = metrics;
        _next = next;
    }

    /// <summary>True for a memory queue: it keeps the caller's object until a consumer sends it.</summary>
    public bool RetainsRequests => _config.Storage is null;

    public long Size => _queue?.Size ?? 0;

    public async Task StartAsync(IComponentHost host, CancellationToken cancellationToken)
    {
        if (_config.Storage is { } storageId)
        {
            if (host.GetExtension(storageId) is not IStorageExtension storage)
                throw new InvalidOperationException($"sending_queue.storage: \"{storageId}\" is not a configured storage extension (add it under extensions and service.extensions)");
            _storageClient = await storage.GetClientAsync(ComponentKind.Exporter, _settings.Id, _signal.Signal.ToConfigName(), cancellationToken);
            _queue = await PersistentRequestQueue<T>.OpenAsync(_storageClient, _config.QueueSize, _config.Blocking, _settings.Logger, cancellationToken);
        }
        else
        {
            Func<Payload<T>, long> sizeOf = _config.Sizer switch
            {
                QueueSizer.Items => data => data.ItemCount,
                QueueSizer.Bytes => data => data.CalculateSize(),
                _ => _ => 1,
            };
            _queue = new MemoryRequestQueue<T>(_config.QueueSize, sizeOf, _config.Blocking);
        }
        var queue = _queue;
        _metrics.ObserveQueue(() => queue.Size, _config.QueueSize);
        _consumers = Enumerable.Range(0, _config.NumConsumers).Select(_ => Task.Run(() => ConsumeAsync(queue))).ToArray();
    }

    public async ValueTask OfferAsync(Payload<T> data, CancellationToken cancellationToken)
    {
        if (_queue is null) throw new RetryableDataException($"exporter {_settings.Id} is not started");
        try
        {
            await _queue.OfferAsync(data, ClientContext.Current, cancellationToken);
        }
        catch (Exception ex) when (ex is RetryableDataException or PermanentDataException)
        {
            _metrics.EnqueueFailed(data.ItemCount);
            throw;
        }
    }

    /// <summary>
    /// Stops taking offers and drains: a memory queue is sent until <paramref name="cancellationToken"/> fires and
    /// what is left then is counted and logged as dropped; a persistent queue stops at once and keeps the rest on disk
    /// (requests in flight included) for the next start.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_queue is not { } queue) return;
        queue.Close();
        var persistent = _storageClient is not null;
        if (persistent) await _stopSending.CancelAsync();
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
                droppedItems += left.Request.ItemCount;
                await queue.CompleteAsync(left);
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

    private async Task ConsumeAsync(IRequestQueue<T> queue)
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

            // The sender (and anything it calls) sees who sent the data, as if it were called by the receiver.
            ClientContext.Set(taken.Client);
            try
            {
                await _next.SendAsync(taken.Request, _stopSending.Token);
            }
            catch (OperationCanceledException) when (_stopSending.IsCancellationRequested)
            {
                if (_storageClient is not null) return; // stays in storage as in flight: sent again after restart
                var items = taken.Request.ItemCount;
                _metrics.SendFailed(items);
                _settings.Logger.LogError("exporter {Exporter}: shutdown interrupted sending {Items} items; they are dropped", _settings.Id, items);
            }
            catch (Exception ex)
            {
                _settings.Logger.LogError("exporter {Exporter}: exporting failed, dropping {Items} items: {Error}",
                    _settings.Id, taken.Request.ItemCount, ex.Message);
            }
            await queue.CompleteAsync(taken);
        }
    }
}
