namespace OtelAi.Otlp.Hosting;

/// <summary>
/// Ends a request body read that makes no progress: a client that sends part of a body and stops would otherwise hold
/// its buffered bytes until it disconnects (Kestrel's minimum data rate averages over the whole read, so a fast start
/// hides a stall). Created only once a body did not arrive in its first read, so ordinary requests pay nothing.
/// </summary>
internal sealed class StallGuard : IDisposable
{
    /// <summary>How long a body may go without a new byte.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly CancellationToken _outer;
    private readonly CancellationTokenSource _stall;

    public StallGuard(CancellationToken outer)
    {
        _outer = outer;
        _stall = CancellationTokenSource.CreateLinkedTokenSource(outer);
        _stall.CancelAfter(Timeout);
    }

    /// <summary>The token for the next read: cancelled by the caller's token or by a stall.</summary>
    public CancellationToken Token => _stall.Token;

    /// <summary>Bytes arrived: the stall clock starts again.</summary>
    public void Progress() => _stall.CancelAfter(Timeout);

    /// <summary>True when a read was cancelled by the stall, not by the caller.</summary>
    public bool Stalled => _stall.IsCancellationRequested && !_outer.IsCancellationRequested;

    public void Dispose() => _stall.Dispose();
}

/// <summary>A request body sent no bytes for <see cref="StallGuard.Timeout"/>.</summary>
public sealed class StalledBodyException() : Exception($"the request body sent nothing for {StallGuard.Timeout.TotalSeconds:0} s");
