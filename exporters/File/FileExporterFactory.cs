using Google.Protobuf;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Otlp;

namespace OtelAi.Exporters.FileOutput;

/// <summary>otelcol-contrib's <c>file</c> exporter (alpha for traces, metrics and logs).</summary>
public sealed class FileExporterFactory : ExporterFactory<FileExporterConfig>
{
    public override string Type => "file";

    public override IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; } = AllSignals(StabilityLevel.Alpha);

    protected override IExporter<T> Create<T>(ComponentCreateSettings settings, FileExporterConfig config) =>
        config.GroupBy.Enabled ? new GroupingFileExporter<T>(settings, config) : new FileExporter<T>(settings, config);
}
