using OtelAi.Otlp.Protobuf;
using System.Buffers.Binary;
using System.Threading.Channels;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.Extensions.Storage;
using OtelAi.Otlp;

namespace OtelAi.Engine.Exporter;

/// <summary>A queued request and what the queue needs to know to retire it.</summary>
internal sealed record QueuedRequest<T>(T Request, long Index, long Size);

/// <summary>
/// The sending queue between ConsumeAsync and the consumers. Size drops when a consumer takes a request (as in
/// otelcol); <see cref="CompleteAsync"/> retires a taken request for good.
/// </summary>
internal interface IRequestQueue<T> where T : class
{
    long Size { get; }

    long Capacity { get; }

    /// <summary>Adds a request, or throws <see cref="RetryableDataException"/> when full (waits for room when blocking).</summary>
    ValueTask OfferAsync(T request, CancellationToken cancellationToken);

    /// <summary>The next request, or null once the queue is closed and (for a memory queue) empty.</summary>
    ValueTask<QueuedRequest<T>?> TakeAsync(CancellationToken cancellationToken);

    ValueTask CompleteAsync(QueuedRequest<T> request);

    /// <summary>No more offers; takers get what is left (memory) or stop (persistent: the rest stays on disk).</summary>
    void Close();
}

/// <summary>
/// Sequence of waiters woken when room appears. A counting semaphore capped at one pending release: waiters
/// re-check the condition after waking, so coalesced releases lose nothing.
/// </summary>
internal sealed class RoomSignal
{
    private readonly SemaphoreSlim _semaphore = new(0);

    public void Pulse()
    {
        if (_semaphore.CurrentCount == 0) _semaphore.Release();
    }

    public Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _semaphore.WaitAsync(timeout, cancellationToken);
}

internal static class QueueErrors
{
    public static RetryableDataException Full(long capacity) =>
        new($"sending queue is full (capacity {capacity}); the destination is not keeping up or is unavailable");

    public static RetryableDataException Closed() => new("sending queue is shut down");
}

/// <summary>In-memory bounded queue; capacity measured by the configured sizer.</summary>
internal sealed class MemoryRequestQueue<T> : IRequestQueue<T> where T : class
{
    private readonly Channel<QueuedRequest<T>> _channel = Channel.CreateUnbounded<QueuedRequest<T>>(new UnboundedChannelOptions { SingleReader = false });
    private readonly Func<T, long> _sizeOf;
    private readonly bool _blocking;
    private readonly RoomSignal _roomFreed = new();
    private long _size;
    private volatile bool _closed;

    public MemoryRequestQueue(long capacity, Func<T, long> sizeOf, bool blocking)
    {
        Capacity = capacity;
        _sizeOf = sizeOf;
        _blocking = blocking;
    }

    public long Size => Interlocked.Read(ref _size);

    public long Capacity { get; }

    public async ValueTask OfferAsync(T request, CancellationToken cancellationToken)
    {
        var size = _sizeOf(request);
        if (size > Capacity)
            throw new PermanentDataException($"request of size {size} is larger than the sending queue capacity {Capacity}");
        while (!TryReserve(size))
        {
            if (_closed) throw QueueErrors.Closed();
            if (!_blocking) throw QueueErrors.Full(Capacity);
            await _roomFreed.WaitAsync(TimeSpan.FromMilliseconds(200), cancellationToken);
        }
        if (_closed || !_channel.Writer.TryWrite(new QueuedRequest<T>(request, 0, size)))
        {
            Interlocked.Add(ref _size, -size);
            throw QueueErrors.Closed();
        }
    }

    private bool TryReserve(long size)
    {
        while (true)
        {
            var current = Interlocked.Read(ref _size);
            if (current + size > Capacity) return false;
            if (Interlocked.CompareExchange(ref _size, current + size, current) == current) return true;
        }
    }

    public async ValueTask<QueuedRequest<T>?> TakeAsync(CancellationToken cancellationToken)
    {
        try
        {
            var item = await _channel.Reader.ReadAsync(cancellationToken);
            Interlocked.Add(ref _size, -item.Size);
            _roomFreed.Pulse();
            return item;
        }
        catch (ChannelClosedException)
        {
            return null;
        }
    }

    public ValueTask CompleteAsync(QueuedRequest<T> request) => ValueTask.CompletedTask;

    public void Close()
    {
        _closed = true;
        _channel.Writer.TryComplete();
    }
}

/// <summary>
/// otelcol's persistent queue on a storage client: each request's protobuf bytes under its index (decimal key),
/// <c>ri</c> (next to read), <c>wi</c> (next to write) and <c>di</c> (indexes taken but not completed). Requests a
/// previous run had taken but not completed (killed mid-send) are delivered first after a restart. Every state
/// change is one storage batch, so a crash at any point leaves a consistent queue.
/// </summary>
internal sealed class PersistentRequestQueue<T> : IRequestQueue<T> where T : class, IMessage<T>, new()
{
    private const string ReadIndexKey = "ri";
    private const string WriteIndexKey = "wi";
    private const string DispatchedKey = "di";

    private readonly object _gate = new();
    private readonly IStorageClient _storage;
    private readonly bool _blocking;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _available;
    private readonly RoomSignal _roomFreed = new();
    private readonly CancellationTokenSource _closed = new();
    private readonly Queue<long> _redo;
    private readonly HashSet<long> _dispatched;
    private long _readIndex;
    private long _writeIndex;

    private PersistentRequestQueue(IStorageClient storage, long capacity, bool blocking, ILogger logger, long readIndex, long writeIndex, List<long> dispatched)
    {
        _storage = storage;
        Capacity = capacity;
        _blocking = blocking;
        _logger = logger;
        _readIndex = readIndex;
        _writeIndex = writeIndex;
        _dispatched = [.. dispatched];
        _redo = new Queue<long>(dispatched);
        _available = new SemaphoreSlim((int)Math.Min(int.MaxValue, writeIndex - readIndex + dispatched.Count));
    }

    public static async Task<PersistentRequestQueue<T>> OpenAsync(IStorageClient storage, long capacity, bool blocking, ILogger logger, CancellationToken cancellationToken)
    {
        var ri = StorageOperation.Get(ReadIndexKey);
        var wi = StorageOperation.Get(WriteIndexKey);
        var di = StorageOperation.Get(DispatchedKey);
        await storage.BatchAsync([ri, wi, di], cancellationToken);
        var readIndex = DecodeIndex(ri.Value);
        var writeIndex = DecodeIndex(wi.Value);
        var dispatched = DecodeIndexList(di.Value);
        if (writeIndex < readIndex)
        {
            logger.LogError("persistent queue indexes are inconsistent (read {Read} > write {Write}); starting from the write index", readIndex, writeIndex);
            readIndex = writeIndex;
        }
        var queue = new PersistentRequestQueue<T>(storage, capacity, blocking, logger, readIndex, writeIndex, dispatched);
        if (queue.Size > 0)
            logger.LogInformation("persistent queue restored {Count} requests ({InFlight} were being sent when the previous run stopped)", queue.Size, dispatched.Count);
        return queue;
    }

    public long Size
    {
        get { lock (_gate) return _writeIndex - _readIndex + _redo.Count; }
    }

    public long Capacity { get; }

    public async ValueTask OfferAsync(T request, CancellationToken cancellationToken)
    {
        var bytes = OtlpProtobuf.ToByteArray(request);
        while (true)
        {
            if (_closed.IsCancellationRequested) throw QueueErrors.Closed();
            lock (_gate)
            {
                if (_writeIndex - _readIndex + _redo.Count < Capacity)
                {
                    var index = _writeIndex;
                    try
                    {
                        _storage.BatchAsync([StorageOperation.Set(ItemKey(index), bytes), StorageOperation.Set(WriteIndexKey, EncodeIndex(index + 1))], cancellationToken)
                            .AsTask().GetAwaiter().GetResult();
                    }
                    catch (IOException ex)
                    {
                        _logger.LogError(ex, "persistent queue could not store a request (disk full or I/O error); refusing data until storage works again");
                        throw new RetryableDataException($"persistent queue storage failed: {ex.Message}", inner: ex);
                    }
                    _writeIndex = index + 1;
                    break;
                }
            }
            if (!_blocking) throw QueueErrors.Full(Capacity);
            await _roomFreed.WaitAsync(TimeSpan.FromMilliseconds(200), cancellationToken);
        }
        _available.Release();
    }

    public async ValueTask<QueuedRequest<T>?> TakeAsync(CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closed.Token);
        while (true)
        {
            try
            {
                await _available.WaitAsync(linked.Token);
            }
            catch (OperationCanceledException) when (_closed.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                return null;
            }

            long index;
            StorageOperation item;
            lock (_gate)
            {
                if (_redo.Count > 0) index = _redo.Dequeue();
                else
                {
                    index = _readIndex++;
                    _dispatched.Add(index);
                }
                item = StorageOperation.Get(ItemKey(index));
                try
                {
                    _storage.BatchAsync([item, StorageOperation.Set(ReadIndexKey, EncodeIndex(_readIndex)), StorageOperation.Set(DispatchedKey, EncodeIndexList(_dispatched))], CancellationToken.None)
                        .AsTask().GetAwaiter().GetResult();
                }
                catch (IOException ex)
                {
                    // The index change did not reach the disk; the request is still taken in memory and is retired
                    // (or re-taken after a restart) like any other.
                    _logger.LogError(ex, "persistent queue could not record taking request {Index}", index);
                }
            }
            _roomFreed.Pulse();

            if (item.Value is null)
            {
                _logger.LogError("persistent queue request {Index} is missing from storage; skipping it", index);
                await CompleteAsync(new QueuedRequest<T>(null!, index, 1));
                continue;
            }
            T request;
            try
            {
                // The pipeline's parser: files written by earlier versions may still hold unknown fields.
                request = OtlpSignal<T>.Instance.Parser.ParseFrom(item.Value);
            }
            catch (InvalidProtocolBufferException ex)
            {
                _logger.LogError("persistent queue request {Index} is not a valid {Type} ({Error}); dropping it", index, typeof(T).Name, ex.Message);
                await CompleteAsync(new QueuedRequest<T>(null!, index, 1));
                continue;
            }
            return new QueuedRequest<T>(request, index, 1);
        }
    }

    public ValueTask CompleteAsync(QueuedRequest<T> request)
    {
        lock (_gate)
        {
            _dispatched.Remove(request.Index);
            try
            {
                _storage.BatchAsync([StorageOperation.Delete(ItemKey(request.Index)), StorageOperation.Set(DispatchedKey, EncodeIndexList(_dispatched))], CancellationToken.None)
                    .AsTask().GetAwaiter().GetResult();
            }
            catch (IOException ex)
            {
                _logger.LogError(ex, "persistent queue could not retire request {Index}; it may be sent again after a restart", request.Index);
            }
        }
        return ValueTask.CompletedTask;
    }

    public void Close() => _closed.Cancel();

    private static string ItemKey(long index) => index.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static byte[] EncodeIndex(long index)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, index);
        return bytes;
    }

    private static long DecodeIndex(byte[]? bytes) => bytes is { Length: 8 } ? BinaryPrimitives.ReadInt64LittleEndian(bytes) : 0;

    private static byte[] EncodeIndexList(IReadOnlyCollection<long> indexes)
    {
        var bytes = new byte[4 + 8 * indexes.Count];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, indexes.Count);
        var pos = 4;
        foreach (var index in indexes)
        {
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(pos), index);
            pos += 8;
        }
        return bytes;
    }

    private static List<long> DecodeIndexList(byte[]? bytes)
    {
        var list = new List<long>();
        if (bytes is null || bytes.Length < 4) return list;
        var count = BinaryPrimitives.ReadInt32LittleEndian(bytes);
        if (count < 0 || bytes.Length != 4 + 8L * count) return list;
        for (var i = 0; i < count; i++) list.Add(BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(4 + 8 * i)));
        return list;
    }
}
