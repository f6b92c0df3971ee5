using Google.Protobuf;
using OtelAi.Engine.Config;
using OtelAi.Engine.Consumers;
using OtelAi.Otlp;

namespace OtelAi.Engine.Components;

/// <summary>
/// One factory per component type, registered under otelcol's type name. The config type is a record
/// deriving from <see cref="ComponentConfig"/>; its property initialisers are the defaults.
/// </summary>
public interface IComponentFactory
{
    string Type { get; }

    ComponentKind Kind { get; }

    /// <summary>Config record type; the config binder and the JSON schema are derived from it.</summary>
    Type ConfigType { get; }

    ComponentConfig CreateDefaultConfig();

    /// <summary>Stability per supported signal; a signal missing here is not supported. Extensions use <see cref="ExtensionStability"/>.</summary>
    IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; }

    /// <summary>Other type names this factory is accepted under (otelcol's deprecated names), beside <see cref="Type"/>.</summary>
    IReadOnlyList<string> Aliases => [];

    /// <summary>The self-metrics a component of this type may emit; registering an undeclared one fails the conformance test.</summary>
    IReadOnlyList<SelfTelemetry.SelfMetric> SelfMetrics => [];

    /// <summary>The feature gates components of this type read (<see cref="ComponentCreateSettings.FeatureGates"/>).</summary>
    IReadOnlyList<FeatureGate> FeatureGates => [];
}

/// <summary>
/// Receivers are created once per id and shared by every pipeline that lists them (like otelcol's shared
/// otlp receiver): <paramref name="consumers"/> holds the fanned-out next consumer of each signal in use.
/// </summary>
public interface IReceiverFactory : IComponentFactory
{
    IComponent CreateReceiver(ComponentCreateSettings settings, ComponentConfig config, ReceiverConsumers consumers);
}

public sealed record ReceiverConsumers(
    ITelemetryConsumer<OtelAi.Otlp.Proto.Collector.Trace.V1.ExportTraceServiceRequest>? Traces,
    ITelemetryConsumer<OtelAi.Otlp.Proto.Collector.Metrics.V1.ExportMetricsServiceRequest>? Metrics,
    ITelemetryConsumer<OtelAi.Otlp.Proto.Collector.Logs.V1.ExportLogsServiceRequest>? Logs);

/// <summary>A processor instance per pipeline, as in otelcol.</summary>
public interface IProcessorFactory : IComponentFactory
{
    IProcessor<T> CreateProcessor<T>(ComponentCreateSettings settings, ComponentConfig config, ITelemetryConsumer<T> next)
        where T : class, IMessage<T>, new();
}

public interface IProcessor<T> : IComponent, ITelemetryConsumer<T> where T : class, IMessage<T>, new();

/// <summary>An exporter instance per (id, signal), shared by every pipeline of that signal that lists it.</summary>
public interface IExporterFactory : IComponentFactory
{
    IExporter<T> CreateExporter<T>(ComponentCreateSettings settings, ComponentConfig config)
        where T : class, IMessage<T>, new();
}

public interface IExporter<T> : IComponent, ITelemetryConsumer<T> where T : class, IMessage<T>, new();

/// <summary>
/// A connector is an exporter of one pipeline and a receiver of another. <see cref="Stability"/> keys are not
/// used; <see cref="SupportedRoutes"/> says which (from, to) signal pairs work.
/// </summary>
public interface IConnectorFactory : IComponentFactory
{
    IReadOnlyDictionary<(Signal From, Signal To), StabilityLevel> SupportedRoutes { get; }

    IExporter<TIn> CreateConnector<TIn, TOut>(ComponentCreateSettings settings, ComponentConfig config, ITelemetryConsumer<TOut> next)
        where TIn : class, IMessage<TIn>, new()
        where TOut : class, IMessage<TOut>, new();
}

public interface IExtensionFactory : IComponentFactory
{
    StabilityLevel ExtensionStability { get; }

    IComponent CreateExtension(ComponentCreateSettings settings, ComponentConfig config);
}
