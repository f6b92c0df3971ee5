using OtelAi.Otlp;
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
