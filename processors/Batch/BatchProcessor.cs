using System.Collections.Concurrent;
using System.Threading.Channels;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using OtelAi.Engine.Components;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Otlp;

namespace OtelAi.Processors.Batch;

/// <summary>
/// otelcol's batch processor. Accepting data is a channel write; one task per batcher merges, splits and sends,
/// so producers never contend on the batch itself. Without metadata_keys there is exactly one batcher.
/// </summary>
public sealed class BatchProcessor<T> : IProcessor<T> where T : class, IMessage<T>, new()
{
    private static readonly OtlpSignal<T> Ops = OtlpSignal<T>.Instance;

    private readonly BatchConfig _config;
    private readonly ITelemetryConsumer<T> _next;
    private readonly ILogger _logger;
    private readonly ProcessorMetrics _processorMetrics;
    private readonly Counter _sizeTriggers;
    private readonly Counter _timeoutTriggers;
    private readonly Histogram _sendSizes;
    private readonly string[] _metadataKeys;
    private readonly Batcher? _single;
    private readonly ConcurrentDictionary<string, Batcher> _byMetadata = new(StringComparer.Ordinal);
    private readonly Lock _createLock = new();
    private volatile bool _stopping;

    public BatchProcessor(ComponentCreateSettings settings, BatchConfig config, ITelemetryConsumer<T> next)
    {
        _config = config;
        _next = next;
        _logger = settings.Logger;
        _processorMetrics = new ProcessorMetrics(settings.Metrics, settings.Id);
        var label = ("processor", settings.Id.ToString());
        _sizeTriggers = settings.Metrics.Counter(BatchProcessorFactory.SizeTriggerSend, label);
        _timeoutTriggers = settings.Metrics.Counter(BatchProcessorFactory.TimeoutTriggerSend, label);
        _sendSizes = settings.Metrics.Histogram(BatchProcessorFactory.BatchSendSize, label);
        _metadataKeys = config.MetadataKeys.Select(k => k.ToLowerInvariant()).ToArray();
        if (_metadataKeys.Length == 0) _single = new Batcher(this, ClientInfo.Empty);
        else
            settings.Metrics.Gauge(BatchProcessorFactory.MetadataCardinality, () => _byMetadata.Count, label);
    }
    /// <summary>
    /// Pending data is kept until it is sent, merged into (and split off) the batch being built; encoded payloads are
    /// joined and cut as bytes, so the batch itself reads no content.
    /// </summary>
    public ConsumerCapabilities Capabilities => new(MutatesData: true, RetainsData: true, ReadsContent: _next.Capabilities.ReadsContent);

    public Task StartAsync(IComponentHost host, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Returns once the data is queued for its batch; sending happens on the batcher's task.</summary>
    public ValueTask ConsumeAsync(Payload<T> data, CancellationToken cancellationToken)
    {
        if (_stopping) throw new RetryableDataException("batch processor is shutting down");
        var batcher = _single ?? BatcherForCurrentClient();
        return batcher.EnqueueAsync(data, cancellationToken);
    }

    /// <summary>Stops accepting data and sends everything still batched.</summary>
    public async Task ShutdownAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        Batcher[] batchers;
        lock (_createLock) batchers = _single is not null ? [_single] : _byMetadata.Values.ToArray();
        foreach (var batcher in batchers) batcher.Complete();
        await Task.WhenAll(batchers.Select(b => b.Completion)).WaitAsync(cancellationToken);
    }

    private Batcher BatcherForCurrentClient()
    {
        var client = ClientContext.Current;
        var key = MetadataKey(client);
        if (_byMetadata.TryGetValue(key, out var batcher)) return batcher;
        lock (_createLock)
        {
            if (_byMetadata.TryGetValue(key, out batcher)) return batcher;
            if (_stopping) throw new RetryableDataException("batch processor is shutting down");
            if (_byMetadata.Count >= _config.MetadataCardinalityLimit)
                throw new PermanentDataException("too many batcher metadata-value combinations");
            batcher = new Batcher(this, MetadataSubset(client));
            _byMetadata[key] = batcher;
            return batcher;
        }
    }

    // Values of every metadata key, in config order; \u0001 and \u0000 cannot occur in header values.
    private string MetadataKey(ClientInfo client)
    {
        var parts = new List<string>(_metadataKeys.Length * 2);
        foreach (var key in _metadataKeys)
        {
            parts.Add(client.Metadata.TryGetValue(key, out var values) ? string.Join('\u0001', values) : "");
        }
        return string.Join('\u0000', parts);
    }

    private ClientInfo MetadataSubset(ClientInfo client)
    {
        var metadata = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var key in _metadataKeys)
            if (client.Metadata.TryGetValue(key, out var values) && values.Count > 0) metadata[key] = values.ToArray();
        return new ClientInfo(null, metadata);
    }

    /// <summary>One batch stream: a channel of accepted payloads and the task that turns them into batches.</summary>
    private sealed class Batcher
    {
        private readonly BatchProcessor<T> _owner;
        private readonly ClientInfo _client;
        private readonly Channel<Payload<T>> _channel;

        public Batcher(BatchProcessor<T> owner, ClientInfo client)
        {
            _owner = owner;
            _client = client;
            // Bounded like otelcol's hand-off channel: a slow downstream pushes back on producers instead of growing memory.
            _channel = Channel.CreateBounded<Payload<T>>(new BoundedChannelOptions(Math.Max(4, Environment.ProcessorCount * 4))
            {
                SingleReader = true,
                FullMode = BoundedChannelFullMode.Wait,
            });
            Completion = Task.Run(RunAsync);
        }

        public Task Completion { get; }

        public ValueTask EnqueueAsync(Payload<T> data, CancellationToken cancellationToken)
        {
            if (_channel.Writer.TryWrite(data)) return ValueTask.CompletedTask;
            return WriteSlowAsync(data, cancellationToken);
        }

        private async ValueTask WriteSlowAsync(Payload<T> data, CancellationToken cancellationToken)
        {
            try
            {
                await _channel.Writer.WriteAsync(data, cancellationToken);
            }
            catch (ChannelClosedException)
            {
                throw new RetryableDataException("batch processor is shutting down");
            }
        }

        public void Complete() => _channel.Writer.TryComplete();

        private async Task RunAsync()
        {
            // Sends run on this task; the client info travels with them as otelcol's context does.
            ClientContext.Set(_client);
            var config = _owner._config;
            var reader = _channel.Reader;
            var pending = new List<Payload<T>>();
            var pendingItems = 0;
            CancellationTokenSource? deadline = null;
            while (true)
            {
                bool more;
                try
                {
                    if (pendingItems > 0 && config.Timeout > TimeSpan.Zero)
                    {
                        deadline ??= new CancellationTokenSource(config.Timeout);
                        more = await reader.WaitToReadAsync(deadline.Token);
                    }
                    else
                    {
                        more = await reader.WaitToReadAsync();
                    }
                }
                catch (OperationCanceledException) when (deadline?.IsCancellationRequested == true)
                {
                    _owner._timeoutTriggers.Add(1);
                    await SendAsync(Payload<T>.Concat(pending), pendingItems);
                    pending.Clear();
                    pendingItems = 0;
                    deadline.Dispose();
                    deadline = null;
                    continue;
                }
                if (!more) break;

                while (reader.TryRead(out var data))
                {
                    pending.Add(data);
                    pendingItems += data.ItemCount;
                    var sent = false;
                    while (pendingItems > 0 && (pendingItems >= config.SendBatchSize || config.Timeout == TimeSpan.Zero))
                    {
                        _owner._sizeTriggers.Add(1);
                        pendingItems = await SendOneAsync(pending, pendingItems);
                        sent = true;
                    }
                    if (sent && deadline is not null)
                    {
                        // The timeout counts from the oldest item still waiting, which is now newer.
                        deadline.Dispose();
                        deadline = null;
                    }
                }
            }
            deadline?.Dispose();
            while (pendingItems > 0) pendingItems = await SendOneAsync(pending, pendingItems);
        }

        /// <summary>
        /// Joins the pending payloads and sends up to send_batch_max_size items; what is left stays in
        /// <paramref name="pending"/> (as one payload) and its item count is returned.
        /// </summary>
        private async Task<int> SendOneAsync(List<Payload<T>> pending, int pendingItems)
        {
            var batch = Payload<T>.Concat(pending);
            pending.Clear();
            var max = _owner._config.SendBatchMaxSize;
            if (max > 0 && pendingItems > max)
            {
                var head = batch.SplitOff(max);
                var headItems = head.ItemCount;
                pending.Add(batch);
                await SendAsync(head, headItems);
                return pendingItems - headItems;
            }
            await SendAsync(batch, pendingItems);
            return 0;
        }

        private async Task SendAsync(Payload<T> batch, int items)
        {
            if (items == 0 && batch.ResourceCount == 0) return;
            _owner._sendSizes.Record(items);
            try
            {
                await _owner._next.ConsumeAsync(batch, CancellationToken.None);
            }
            catch (Exception ex)
            {
                // The sender already got its success when the data was queued: count and log the loss.
                _owner._processorMetrics.Dropped(Ops.Signal, items);
                _owner._logger.LogWarning(ex, "batch processor: sending a batch of {Items} {ItemName} failed; the batch is dropped",
                    items, Ops.Signal.ItemName());
            }
        }
    }
}
