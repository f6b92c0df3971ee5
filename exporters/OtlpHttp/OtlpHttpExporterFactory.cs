using Google.Protobuf;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Exporter;
using OtelAi.Engine.Telemetry;

namespace OtelAi.Exporters.OtlpHttp;

/// <summary>otelcol's OTLP/HTTP exporter, <c>otlp_http</c> (also accepted under its older name <c>otlphttp</c>).</summary>
public sealed class OtlpHttpExporterFactory : IExporterFactory
{
    public string Type => "otlp_http";
    public ComponentKind Kind => ComponentKind.Exporter;
    public Type ConfigType => typeof(OtlpHttpExporterConfig);

    public IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; } = new Dictionary<Signal, StabilityLevel>
    {
        [Signal.Traces] = StabilityLevel.Stable,
        [Signal.Metrics] = StabilityLevel.Stable,
        [Signal.Logs] = StabilityLevel.Stable,
    };

    public ComponentConfig CreateDefaultConfig() => new OtlpHttpExporterConfig();

    public IExporter<T> CreateExporter<T>(ComponentCreateSettings settings, ComponentConfig config) where T : class, IMessage<T>, new()
    {
        var typed = (OtlpHttpExporterConfig)config;
        return new QueuedRetryExporter<T>(settings, typed.HelperOptions, new OtlpHttpSender<T>(typed));
    }
}
