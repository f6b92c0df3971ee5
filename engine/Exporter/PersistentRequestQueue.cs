using System.Buffers.Binary;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.Extensions.Storage;
using OtelAi.Otlp;
using OtelAi.Otlp.Grpc;
using OtelAi.Otlp.Protobuf;

namespace OtelAi.Engine.Exporter;

/// <summary>
/// otelcol's persistent queue on a storage client: each request's protobuf bytes under its index (decimal key),
/// <c>ri</c> (next to read), <c>wi</c> (next to write) and <c>di</c> (indexes taken but not completed). Requests a
/// previous run had taken but not completed (killed mid-send) are delivered first after a restart. Every state
/// change is one storage batch, so a crash at any point leaves a consistent queue. Storage calls are awaited under
/// an async gate (no thread waits on I/O), and a request is serialised into pooled memory, not a new array.
/// The client info of a request is kept in memory only: requests restored after a restart have none.
/// </summary>
internal sealed class PersistentRequestQueue<T> : IRequestQueue<T> where T : class, IMessage<T>, new()
{
    private const string ReadIndexKey = "ri";
    private const string WriteIndexKey = "wi";
    private const string DispatchedKey = "di";

    // Serialises index changes and the storage batches that record them.
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly IStorageClient _storage;
    private readonly bool _blocking;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _available;
    private readonly RoomSignal _roomFreed = new();
    private readonly CancellationTokenSource _closed = new();
    private readonly Queue<long> _redo;
    private readonly HashSet<long> _dispatched;
    private readonly Dictionary<long, ClientInfo> _clients = [];
    private long _readIndex;
    private long _writeIndex;
    private long _size;

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
        _size = writeIndex - readIndex + dispatched.Count;
        _available = new SemaphoreSlim((int)Math.Min(int.MaxValue, _size));
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

    public long Size => Volatile.Read(ref _size);

    public long Capacity { get; }

    public async ValueTask OfferAsync(Payload<T> request, ClientInfo client, CancellationToken cancellationToken)
    {
        using var bytes = Serialize(request);
        while (true)
        {
            if (_closed.IsCancellationRequested) throw QueueErrors.Closed();
            await _gate.WaitAsync(cancellationToken);
            try
            {
                if (_size < Capacity)
                {
                    var index = _writeIndex;
                    try
                    {
                        await _storage.BatchAsync([StorageOperation.Set(ItemKey(index), bytes.WrittenMemory), StorageOperation.Set(WriteIndexKey, EncodeIndex(index + 1))], cancellationToken);
                    }
                    catch (IOException ex)
                    {
                        _logger.LogError(ex, "persistent queue could not store a request (disk full or I/O error); refusing data until storage works again");
                        throw new RetryableDataException($"persistent queue storage failed: {ex.Message}", inner: ex);
                    }
                    _writeIndex = index + 1;
                    if (!ReferenceEquals(client, ClientInfo.Empty)) _clients[index] = client;
                    UpdateSize();
                    break;
                }
            }
            finally
            {
                _gate.Release();
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

            var (index, item, client) = await TakeNextAsync();

            if (item.Value is null)
            {
                _logger.LogError("persistent queue request {Index} is missing from storage; skipping it", index);
                await CompleteAsync(new QueuedRequest<T>(null!, index, 1, client));
                continue;
            }
            Payload<T> request;
            try
            {
                // Stored bytes travel on undecoded; files written by earlier versions may still hold unknown fields.
                request = Payload<T>.Parse(item.Value);
            }
            catch (InvalidProtocolBufferException ex)
            {
                _logger.LogError("persistent queue request {Index} is not a valid {Type} ({Error}); dropping it", index, typeof(T).Name, ex.Message);
                await CompleteAsync(new QueuedRequest<T>(null!, index, 1, client));
                continue;
            }
            return new QueuedRequest<T>(request, index, 1, client);
        }
    }

    /// <summary>Moves the next index (a redo first) to dispatched and reads its bytes, in one storage batch.</summary>
    private async Task<(long Index, StorageOperation Item, ClientInfo Client)> TakeNextAsync()
    {
        await _gate.WaitAsync(CancellationToken.None);
        try
        {
            long index;
            if (_redo.Count > 0) index = _redo.Dequeue();
            else
            {
                index = _readIndex++;
                _dispatched.Add(index);
            }
            UpdateSize();
            var client = _clients.Remove(index, out var known) ? known : ClientInfo.Empty;
            var item = StorageOperation.Get(ItemKey(index));
            try
            {
                await _storage.BatchAsync([item, StorageOperation.Set(ReadIndexKey, EncodeIndex(_readIndex)), StorageOperation.Set(DispatchedKey, EncodeIndexList(_dispatched))], CancellationToken.None);
            }
            catch (IOException ex)
            {
                // The index change did not reach the disk; the request is still taken in memory and is retired
                // (or re-taken after a restart) like any other.
                _logger.LogError(ex, "persistent queue could not record taking request {Index}", index);
            }
            return (index, item, client);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask CompleteAsync(QueuedRequest<T> request)
    {
        await _gate.WaitAsync(CancellationToken.None);
        try
        {
            _dispatched.Remove(request.Index);
            UpdateSize();
            _roomFreed.Pulse();
            await _storage.BatchAsync([StorageOperation.Delete(ItemKey(request.Index)), StorageOperation.Set(DispatchedKey, EncodeIndexList(_dispatched))], CancellationToken.None);
        }
        catch (IOException ex)
        {
            _logger.LogError(ex, "persistent queue could not retire request {Index}; it may be sent again after a restart", request.Index);
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Close() => _closed.Cancel();

    /// <summary>Stored and not yet taken, plus taken and not yet completed (being sent): otelcol's queue size.</summary>
    private void UpdateSize() => Volatile.Write(ref _size, _writeIndex - _readIndex + _dispatched.Count);

    private static PooledBufferWriter Serialize(Payload<T> request)
    {
        var bytes = new PooledBufferWriter(request.SizeHint);
        request.WriteTo(bytes);
        return bytes;
    }

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
