using OtelAi.Engine.Consumers;

namespace OtelAi.TestSupport;

/// <summary>A pipeline end that accepts and forgets: benchmarks measure the component in front of it, nothing else.</summary>
public sealed class Discard<T> : ITelemetryConsumer<T> where T : class
{
    public ValueTask ConsumeAsync(T data, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
