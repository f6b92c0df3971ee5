using Google.Protobuf;
using OtelAi.Engine.Config;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Otlp;

namespace OtelAi.Engine.Components;

/// <summary>
/// What every factory shares: its type name, the typed config record (whose initialisers are the defaults) and
/// the stability per signal. Derived factories only say how to build the component from the typed config.
/// </summary>
public abstract class ComponentFactory<TConfig> : IComponentFactory where TConfig : ComponentConfig, new()
{
    public abstract string Type { get; }

    public abstract ComponentKind Kind { get; }

    public Type ConfigType => typeof(TConfig);

    public ComponentConfig CreateDefaultConfig() => new TConfig();

    public abstract IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; }

    public virtual IReadOnlyList<string> Aliases => [];

    public virtual IReadOnlyList<FeatureGate> FeatureGates => [];

    public IReadOnlyList<SelfMetric> SelfMetrics => [.. KindSelfMetrics, .. OwnSelfMetrics];

    /// <summary>What every component of this kind emits through its helper (receiver and exporter metrics).</summary>
    protected virtual IEnumerable<SelfMetric> KindSelfMetrics => [];

    /// <summary>The metrics this component type registers itself.</summary>
    protected virtual IEnumerable<SelfMetric> OwnSelfMetrics => [];

    /// <summary>The same stability for traces, metrics and logs (the common case).</summary>
    protected static IReadOnlyDictionary<Signal, StabilityLevel> AllSignals(StabilityLevel level) =>
        Enum.GetValues<Signal>().ToDictionary(signal => signal, _ => level);
}

/// <summary>Extensions: no signals, one stability level; derived factories only say how to build the extension.</summary>
public abstract class ExtensionFactory<TConfig> : ComponentFactory<TConfig>, IExtensionFactory where TConfig : ComponentConfig, new()
{
    public sealed override ComponentKind Kind => ComponentKind.Extension;

    public sealed override IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; } = new Dictionary<Signal, StabilityLevel>();

    public virtual StabilityLevel ExtensionStability => StabilityLevel.Beta;

    public IComponent CreateExtension(ComponentCreateSettings settings, ComponentConfig config) => Create(settings, (TConfig)config);

    protected abstract IComponent Create(ComponentCreateSettings settings, TConfig config);
}

public abstract class ReceiverFactory<TConfig> : ComponentFactory<TConfig>, IReceiverFactory where TConfig : ComponentConfig, new()
{
    public sealed override ComponentKind Kind => ComponentKind.Receiver;

    protected sealed override IEnumerable<SelfMetric> KindSelfMetrics => ReceiverMetrics.Declared(Stability.Keys);

    public IComponent CreateReceiver(ComponentCreateSettings settings, ComponentConfig config, ReceiverConsumers consumers) =>
        Create(settings, (TConfig)config, consumers);

    protected abstract IComponent Create(ComponentCreateSettings settings, TConfig config, ReceiverConsumers consumers);
}

public abstract class ExporterFactory<TConfig> : ComponentFactory<TConfig>, IExporterFactory where TConfig : ComponentConfig, new()
{
    public sealed override ComponentKind Kind => ComponentKind.Exporter;

    protected sealed override IEnumerable<SelfMetric> KindSelfMetrics => ExporterMetrics.Declared(Stability.Keys);

    public IExporter<T> CreateExporter<T>(ComponentCreateSettings settings, ComponentConfig config) where T : class, IMessage<T>, new() =>
        Create<T>(settings, (TConfig)config);

    protected abstract IExporter<T> Create<T>(ComponentCreateSettings settings, TConfig config) where T : class, IMessage<T>, new();
}

public abstract class ProcessorFactory<TConfig> : ComponentFactory<TConfig>, IProcessorFactory where TConfig : ComponentConfig, new()
{
    public sealed override ComponentKind Kind => ComponentKind.Processor;

    public IProcessor<T> CreateProcessor<T>(ComponentCreateSettings settings, ComponentConfig config, ITelemetryConsumer<T> next)
        where T : class, IMessage<T>, new()
    {
        var signal = OtlpSignal<T>.Instance.Signal;
        if (!Stability.ContainsKey(signal))
            throw new NotSupportedException($"processor \"{settings.Id}\" does not support {signal.ToConfigName()}");
        return Create(settings, (TConfig)config, next);
    }

    protected abstract IProcessor<T> Create<T>(ComponentCreateSettings settings, TConfig config, ITelemetryConsumer<T> next)
        where T : class, IMessage<T>, new();
}

/// <summary>A connector factory: the routes it supports and one constructor for any (from, to) pair among them.</summary>
public abstract class ConnectorFactory<TConfig> : ComponentFactory<TConfig>, IConnectorFactory where TConfig : ComponentConfig, new()
{
    public sealed override ComponentKind Kind => ComponentKind.Connector;

    /// <summary>Connectors are described by <see cref="SupportedRoutes"/>, not by signals.</summary>
    public sealed override IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; } = new Dictionary<Signal, StabilityLevel>();

    public abstract IReadOnlyDictionary<(Signal From, Signal To), StabilityLevel> SupportedRoutes { get; }

    public IExporter<TIn> CreateConnector<TIn, TOut>(ComponentCreateSettings settings, ComponentConfig config, ITelemetryConsumer<TOut> next)
        where TIn : class, IMessage<TIn>, new()
        where TOut : class, IMessage<TOut>, new()
    {
        var route = (OtlpSignal<TIn>.Instance.Signal, OtlpSignal<TOut>.Instance.Signal);
        if (!SupportedRoutes.ContainsKey(route))
            throw new NotSupportedException($"connector \"{settings.Id}\" does not connect {route.Item1.ToConfigName()} to {route.Item2.ToConfigName()}");
        return Create<TIn, TOut>(settings, (TConfig)config, next);
    }

    protected abstract IExporter<TIn> Create<TIn, TOut>(ComponentCreateSettings settings, TConfig config, ITelemetryConsumer<TOut> next)
        where TIn : class, IMessage<TIn>, new()
        where TOut : class, IMessage<TOut>, new();
}
