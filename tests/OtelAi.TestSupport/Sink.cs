using Google.Protobuf;
using OtelAi.Engine.Consumers;
using OtelAi.Otlp;

namespace OtelAi.TestSupport;

/// <summary>
/// The end of a test pipeline: keeps every payload with the client info it arrived with, counts items, and can
/// refuse or delay on request. With <c>keep: false</c> it only counts, like an exporter that has sent what it got
/// (load tests: retaining millions of items would measure the GC, not the component).
/// </summary>
public sealed class Sink<T>(bool keep = true) : ITelemetryConsumer<T> where T : class, IMessage<T>, new()
{
    private readonly List<(Payload<T> Data, ClientInfo Client)> _received = [];
    private readonly SemaphoreSlim _arrived = new(0);
    private long _items;
    private int _refusals;

    /// <summary>Called per payload; an exception returned is thrown as the pipeline's refusal (nothing is kept).</summary>
    public Func<T, Exception?>? Fail { get; set; }

    /// <summary>Each payload waits this long (honouring cancellation) before it is accepted.</summary>
    public TimeSpan? Delay { get; set; }

    /// <summary>Scripts the outcome of the next calls: the n-th is refused with <paramref name="outcomes"/>[n] unless that is null; later calls are accepted.</summary>
    public Sink<T> RefuseInTurn(params Exception?[] outcomes)
    {
        var calls = -1;
        Fail = _ => Interlocked.Increment(ref calls) is var n && n < outcomes.Length ? outcomes[n] : null;
        return this;
    }

    /// <summary>Keeps what it gets as it came (encoded payloads stay encoded until a test reads them).</summary>
    public ConsumerCapabilities Capabilities => ConsumerCapabilities.Retains with { ReadsContent = false };

    public IReadOnlyList<(T Data, ClientInfo Client)> Received
    {
        get { lock (_received) return _received.Select(r => (r.Data.Message, r.Client)).ToList(); }
    }

    /// <summary>The payloads as they arrived, encoded or decoded.</summary>
    public IReadOnlyList<Payload<T>> Arrived
    {
        get { lock (_received) return _received.Select(r => r.Data).ToList(); }
    }

    public IReadOnlyList<T> Payloads => Received.Select(r => r.Data).ToList();

    public IReadOnlyList<ClientInfo> Clients => Received.Select(r => r.Client).ToList();

    /// <summary>Items (spans, points, records) accepted, kept or not.</summary>
    public long Items => Interlocked.Read(ref _items);

    /// <summary>Payloads refused through <see cref="Fail"/>.</summary>
    public int Refusals => Volatile.Read(ref _refusals);

    public async ValueTask ConsumeAsync(Payload<T> data, CancellationToken cancellationToken)
    {
        if (Fail?.Invoke(data.Message) is { } error)
        {
            Interlocked.Increment(ref _refusals);
            throw error;
        }
        if (Delay is { } delay) await Task.Delay(delay, cancellationToken);
        var client = ClientContext.Current;
        Interlocked.Add(ref _items, data.ItemCount);
        if (keep) lock (_received) _received.Add((data, client));
        _arrived.Release();
    }

    /// <summary>All kept payloads merged into one request, in arrival order.</summary>
    public T Merged()
    {
        var all = new T();
        foreach (var data in Payloads) OtlpSignal<T>.Instance.MoveAllTo(data.Clone(), all);
        return all;
    }

    /// <summary>Forgets what was received (lets a test release the memory it held).</summary>
    public void Clear()
    {
        lock (_received) _received.Clear();
    }

    /// <summary>Waits (up to 30 s) until at least <paramref name="count"/> payloads arrived.</summary>
    public async Task WaitForAsync(int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            lock (_received) if (_received.Count >= count) return;
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) throw new TimeoutException($"expected {count} payloads, got {Received.Count}");
            await _arrived.WaitAsync(left);
        }
    }

    /// <summary>Waits (up to <paramref name="timeout"/>, default 30 s) until at least <paramref name="items"/> items arrived.</summary>
    public async Task WaitForItemsAsync(long items, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (Items < items)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) throw new TimeoutException($"expected {items} {typeof(T).Name} items, got {Items}");
            await _arrived.WaitAsync(left < TimeSpan.FromMilliseconds(100) ? left : TimeSpan.FromMilliseconds(100));
        }
    }
}
