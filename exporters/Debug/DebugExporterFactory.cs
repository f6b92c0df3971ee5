using Google.Protobuf;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Telemetry;

namespace OtelAi.Exporters.DebugOutput;

/// <summary>otelcol's <c>debug</c> exporter (development stability for every signal, as otelcol lists it).</summary>
public sealed class DebugExporterFactory : IExporterFactory
{
    public string Type => "debug";
    public ComponentKind Kind => ComponentKind.Exporter;
    public Type ConfigType => typeof(DebugExporterConfig);

    public IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; } = new Dictionary<Signal, StabilityLevel>
    {
        [Signal.Traces] = StabilityLevel.Development,
        [Signal.Metrics] = StabilityLevel.Development,
        [Signal.Logs] = StabilityLevel.Development,
    };

    public ComponentConfig CreateDefaultConfig() => new DebugExporterConfig();

    public IExporter<T> CreateExporter<T>(ComponentCreateSettings settings, ComponentConfig config) where T : class, IMessage<T>, new() =>
        new DebugExporter<T>(settings, (DebugExporterConfig)config);
}
