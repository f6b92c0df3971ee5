using Google.Protobuf;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Consumers;
using OtelAi.Otlp;

namespace OtelAi.Processors.Common;

/// <summary>Changes a payload in place; the processor then hands it on.</summary>
public interface IPayloadMutator<in T>
{
    void Mutate(T data);
}

/// <summary>
/// A processor that edits each payload synchronously and passes it to the next consumer: attributes, resource,
/// aiattributes. No state besides the compiled config, so nothing to start or stop.
/// </summary>
public sealed class InPlaceProcessor<T>(IPayloadMutator<T> mutator, ITelemetryConsumer<T> next) : IProcessor<T>
    where T : class, IMessage<T>, new()
{
    public ConsumerCapabilities Capabilities => ConsumerCapabilities.Mutates;

    public Task StartAsync(IComponentHost host, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task ShutdownAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask ConsumeAsync(Payload<T> data, CancellationToken cancellationToken)
    {
        mutator.Mutate(data.Edit());
        return next.ConsumeAsync(data, cancellationToken);
    }
}
