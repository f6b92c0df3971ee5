namespace OtelAi.Engine.Consumers;

/// <summary>
/// Accepts one signal's payload. Completing normally means the data is accepted: the consumer now owns it
/// (it may mutate or keep it). Refusal is an exception: <see cref="PermanentDataException"/> for data that
/// will never be accepted, <see cref="RetryableDataException"/> for backpressure and transient failures.
/// </summary>
public interface ITelemetryConsumer<in T> where T : class
{
    /// <summary>True when the consumer changes the data; fan-out clones for all but the last such consumer.</summary>
    bool MutatesData => false;

    ValueTask ConsumeAsync(T data, CancellationToken cancellationToken);
}

/// <summary>Data that will never be accepted (malformed, rejected by the backend): not to be retried.</summary>
public sealed class PermanentDataException : Exception
{
    public PermanentDataException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>
/// Data refused for now (memory limit, full queue, backend unavailable). Receivers answer
/// 429 / RESOURCE_EXHAUSTED when <see cref="ResourceExhausted"/> is set, else 503 / UNAVAILABLE,
/// with <see cref="RetryAfter"/> as Retry-After / RetryInfo when known.
/// </summary>
public sealed class RetryableDataException : Exception
{
    public RetryableDataException(string message, TimeSpan? retryAfter = null, bool resourceExhausted = false, Exception? inner = null)
        : base(message, inner)
    {
        RetryAfter = retryAfter;
        ResourceExhausted = resourceExhausted;
    }

    public TimeSpan? RetryAfter { get; }

    public bool ResourceExhausted { get; }
}
