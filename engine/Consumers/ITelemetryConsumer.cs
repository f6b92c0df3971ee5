using Google.Protobuf;
using OtelAi.Otlp;

namespace OtelAi.Engine.Consumers;

/// <summary>
/// Accepts one signal's payload. Completing normally means the data is accepted: the consumer now owns it
/// (it may mutate or keep it). The payload may still be encoded: a consumer that reads content asks for
/// <see cref="Payload{T}.Message"/> (decoded once, on first use), one that changes it calls <see cref="Payload{T}.Edit"/>. Refusal is an exception: <see cref="PermanentDataException"/> for data that
/// will never be accepted, <see cref="RetryableDataException"/> for backpressure and transient failures.
/// </summary>
public interface ITelemetryConsumer<T> where T : class, IMessage<T>, new()
{
    /// <summary>
    /// Whether the consumer changes or keeps the data it accepts; fan-out decides from it who gets a copy. A consumer
    /// that says nothing is taken to keep the data unchanged (<see cref="ConsumerCapabilities.Retains"/>).
    /// </summary>
    ConsumerCapabilities Capabilities => ConsumerCapabilities.Retains;

    ValueTask ConsumeAsync(Payload<T> data, CancellationToken cancellationToken);
}
