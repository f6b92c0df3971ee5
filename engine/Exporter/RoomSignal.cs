
namespace OtelAi.Engine.Exporter;

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
