using Google.Protobuf;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.Telemetry;

namespace OtelAi.Processors.Common;

/// <summary>
/// The parts of <see cref="IProcessorFactory"/> every processor shares: type, kind, typed default config and the
/// cast of the bound config to <typeparamref name="TConfig"/>.
/// </summary>
public abstract class ProcessorFactory<TConfig> : IProcessorFactory where TConfig : ComponentConfig, new()
{
    public abstract string Type { get; }

    public ComponentKind Kind => ComponentKind.Processor;

    public Type ConfigType => typeof(TConfig);

    public ComponentConfig CreateDefaultConfig() => new TConfig();

    public abstract IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; }

    public IProcessor<T> CreateProcessor<T>(ComponentCreateSettings settings, ComponentConfig config, ITelemetryConsumer<T> next)
        where T : class, IMessage<T>, new()
    {
        var signal = SignalData<T>.Ops.Signal;
        if (!Stability.ContainsKey(signal))
            throw new NotSupportedException($"processor \"{settings.Id}\" does not support {signal.ToConfigName()}");
        return Create(settings, (TConfig)config, next);
    }

    protected abstract IProcessor<T> Create<T>(ComponentCreateSettings settings, TConfig config, ITelemetryConsumer<T> next)
        where T : class, IMessage<T>, new();
}

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
    where T : class
{
    public bool MutatesData => true;

    public Task StartAsync(IComponentHost host, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task ShutdownAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask ConsumeAsync(T data, CancellationToken cancellationToken)
    {
        mutator.Mutate(data);
        return next.ConsumeAsync(data, cancellationToken);
    }
}
