using Google.Protobuf;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Otlp;

namespace OtelAi.Exporters.DebugOutput;

/// <summary>otelcol's <c>debug</c> exporter (development stability for every signal, as otelcol lists it).</summary>
public sealed class DebugExporterFactory : ExporterFactory<DebugExporterConfig>
{
    public override string Type => "debug";

    public override IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; } = AllSignals(StabilityLevel.Development);

    protected override IExporter<T> Create<T>(ComponentCreateSettings settings, DebugExporterConfig config) =>
        new DebugExporter<T>(settings, config);
}
