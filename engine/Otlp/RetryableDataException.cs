namespace OtelAi.Otlp;

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
