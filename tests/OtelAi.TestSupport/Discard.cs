using Google.Protobuf;
using OtelAi.Engine.Consumers;
using OtelAi.Otlp;

namespace OtelAi.TestSupport;

/// <summary>A pipeline end that accepts and forgets: benchmarks measure the component in front of it, nothing else.</summary>
public sealed class Discard<T> : ITelemetryConsumer<T> where T : class, IMessage<T>, new()
{
    public ConsumerCapabilities Capabilities => ConsumerCapabilities.ReadOnly with { ReadsContent = false };

    public ValueTask ConsumeAsync(Payload<T> data, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
