using System.Threading.Channels;
using OtelAi.Engine.Consumers;
using OtelAi.Otlp;

namespace OtelAi.Engine.Exporter;

/// <summary>
/// In-memory bounded queue; capacity measured by the configured sizer. As in otelcol, a request counts until a
/// consumer has finished with it (<see cref="CompleteAsync"/>), so the size and the capacity include what is being sent.
/// </summary>
internal sealed class MemoryRequestQueue<T> : IRequestQueue<T> where T : class, Google.Protobuf.IMessage<T>, new()
{
    private readonly Channel<QueuedRequest<T>> _channel = Channel.CreateUnbounded<QueuedRequest<T>>(new UnboundedChannelOptions { SingleReader = false });
    private readonly Func<Payload<T>, long> _sizeOf;
    private readonly bool _blocking;
    private readonly RoomSignal _roomFreed = new();
    private long _size;
    private volatile bool _closed;

    public MemoryRequestQueue(long capacity, Func<Payload<T>, long> sizeOf, bool blocking)
    {
        Capacity = capacity;
        _sizeOf = sizeOf;
        _blocking = blocking;
    }

    public long Size => Interlocked.Read(ref _size);

    public long Capacity { get; }

    public async ValueTask OfferAsync(Payload<T> request, ClientInfo client, CancellationToken cancellationToken)
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
        if (_closed || !_channel.Writer.TryWrite(new QueuedRequest<T>(request, 0, size, client)))
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
            return await _channel.Reader.ReadAsync(cancellationToken);
        }
        catch (ChannelClosedException)
        {
            return null;
        }
    }

    public ValueTask CompleteAsync(QueuedRequest<T> request)
    {
        Interlocked.Add(ref _size, -request.Size);
        _roomFreed.Pulse();
        return ValueTask.CompletedTask;
    }

    public void Close()
    {
        _closed = true;
        _channel.Writer.TryComplete();
    }
}
