using Google.Protobuf;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Telemetry;

namespace OtelAi.Exporters.FileOutput;

/// <summary>otelcol-contrib's <c>file</c> exporter (alpha for traces, metrics and logs).</summary>
public sealed class FileExporterFactory : IExporterFactory
{
    public string Type => "file";
    public ComponentKind Kind => ComponentKind.Exporter;
    public Type ConfigType => typeof(FileExporterConfig);

    public IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; } = new Dictionary<Signal, StabilityLevel>
    {
        [Signal.Traces] = StabilityLevel.Alpha,
        [Signal.Metrics] = StabilityLevel.Alpha,
        [Signal.Logs] = StabilityLevel.Alpha,
    };

    public ComponentConfig CreateDefaultConfig() => new FileExporterConfig();

    public IExporter<T> CreateExporter<T>(ComponentCreateSettings settings, ComponentConfig config) where T : class, IMessage<T>, new()
    {
        var typed = (FileExporterConfig)config;
        return typed.GroupBy.Enabled ? new GroupingFileExporter<T>(settings, typed) : new FileExporter<T>(settings, typed);
    }
}
