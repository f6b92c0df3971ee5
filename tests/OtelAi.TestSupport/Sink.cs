using OtelAi.Engine.Consumers;

namespace OtelAi.TestSupport;

/// <summary>The end of a test pipeline: keeps every payload and the client info it arrived with.</summary>
public sealed class Sink<T> : ITelemetryConsumer<T> where T : class
{
    private readonly List<(T Data, ClientInfo Client)> _received = [];
    private readonly SemaphoreSlim _arrived = new(0);

    public Func<T, Exception?>? Fail { get; set; }

    public IReadOnlyList<(T Data, ClientInfo Client)> Received
    {
        get { lock (_received) return _received.ToList(); }
    }

    public ValueTask ConsumeAsync(T data, CancellationToken cancellationToken)
    {
        if (Fail?.Invoke(data) is { } error) throw error;
        lock (_received) _received.Add((data, ClientContext.Current));
        _arrived.Release();
        return ValueTask.CompletedTask;
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
}
