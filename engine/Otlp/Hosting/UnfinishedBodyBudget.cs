namespace OtelAi.Otlp.Hosting;

/// <summary>
/// The bytes that requests still arriving hold on one listener, across all its connections: a client that sends
/// headers and part of a body, then dribbles, holds memory every other client needs (a body buffer, or a gRPC
/// frame parked in the stream's flow-control window). A request that would pass the limit is answered as retryable
/// (503 / UNAVAILABLE) instead. Finished bodies are no longer counted: memory_limiter and the decode bound take over.
/// </summary>
internal sealed class UnfinishedBodyBudget(long limitBytes)
{
    private long _held;

    public long LimitBytes => limitBytes;

    public long HeldBytes => Interlocked.Read(ref _held);

    /// <summary>Takes <paramref name="bytes"/> more; false (nothing taken) when that would pass the limit.</summary>
    public bool TryHold(long bytes)
    {
        if (Interlocked.Add(ref _held, bytes) <= limitBytes) return true;
        Interlocked.Add(ref _held, -bytes);
        return false;
    }

    public void Release(long bytes) => Interlocked.Add(ref _held, -bytes);

    /// <summary>The refusal's message, the same on both transports.</summary>
    public string Refusal => $"the receiver already holds its limit of unfinished request bodies ({limitBytes >> 20} MiB, max_unfinished_requests_mib); retry later";

    /// <summary>
    /// A listener's budget: <paramref name="configuredMib"/> (max_unfinished_requests_mib), or by default 5 % of the
    /// memory the process may use (its cgroup limit in a container), at least 64 MiB and two of the largest request.
    /// </summary>
    public static UnfinishedBodyBudget Create(long configuredMib, long largestRequestBytes) => new(configuredMib > 0
        ? configuredMib << 20
        : Math.Max(Math.Max(64L << 20, 2 * largestRequestBytes), GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 20));
}
