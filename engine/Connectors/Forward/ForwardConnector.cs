using Google.Protobuf;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Consumers;
using OtelAi.Otlp;

namespace OtelAi.Engine.Connectors.Forward;

/// <summary>
/// otelcol's <c>forward</c> connector: passes data unchanged from the pipelines that export to it to the pipelines
/// of the same signal that receive from it (e.g. to merge pipelines or give one pipeline's output several tails).
/// </summary>
public sealed class ForwardConnectorFactory : IConnectorFactory
{
    public string Type => "forward";

    public ComponentKind Kind => ComponentKind.Connector;

    public Type ConfigType => typeof(EmptyConfig);

    public ComponentConfig CreateDefaultConfig() => new EmptyConfig();

    public IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; } = new Dictionary<Signal, StabilityLevel>();

    public IReadOnlyDictionary<(Signal From, Signal To), StabilityLevel> SupportedRoutes { get; } =
        Enum.GetValues<Signal>().ToDictionary(s => (s, s), _ => StabilityLevel.Beta);

    public IExporter<TIn> CreateConnector<TIn, TOut>(ComponentCreateSettings settings, ComponentConfig config, ITelemetryConsumer<TOut> next)
        where TIn : class, IMessage<TIn>, new()
        where TOut : class, IMessage<TOut>, new()
    {
        if (next is not ITelemetryConsumer<TIn> sameSignal)
            throw new NotSupportedException($"forward connector cannot route {typeof(TIn).Name} to {typeof(TOut).Name}: it only forwards within one signal");
        return new ForwardConnector<TIn>(sameSignal);
    }
}

internal sealed class ForwardConnector<T>(ITelemetryConsumer<T> next) : IExporter<T> where T : class, IMessage<T>, new()
{
    // The downstream pipelines get the very payload this connector receives, so it mutates whenever they do.
    public ConsumerCapabilities Capabilities => next.Capabilities;

    public ValueTask ConsumeAsync(Payload<T> data, CancellationToken cancellationToken) => next.ConsumeAsync(data, cancellationToken);

    public Task StartAsync(IComponentHost host, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task ShutdownAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
