using Google.Protobuf;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Exporter;
using OtelAi.Engine.Telemetry;

namespace OtelAi.Exporters.Otlp;

/// <summary>otelcol's OTLP/gRPC exporter, <c>otlp_grpc</c> (also accepted under its older name <c>otlp</c>).</summary>
public sealed class OtlpExporterFactory : IExporterFactory
{
    public string Type => "otlp_grpc";
    public ComponentKind Kind => ComponentKind.Exporter;
    public Type ConfigType => typeof(OtlpExporterConfig);

    public IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; } = new Dictionary<Signal, StabilityLevel>
    {
        [Signal.Traces] = StabilityLevel.Stable,
        [Signal.Metrics] = StabilityLevel.Stable,
        [Signal.Logs] = StabilityLevel.Stable,
    };

    public ComponentConfig CreateDefaultConfig() => new OtlpExporterConfig();

    public IExporter<T> CreateExporter<T>(ComponentCreateSettings settings, ComponentConfig config) where T : class, IMessage<T>, new()
    {
        var typed = (OtlpExporterConfig)config;
        return new QueuedRetryExporter<T>(settings, typed.HelperOptions, new OtlpGrpcSender<T>(typed));
    }
}
