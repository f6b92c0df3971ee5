using Google.Protobuf;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Exporter;
using OtelAi.Otlp;

namespace OtelAi.Exporters.Otlp;

/// <summary>otelcol's OTLP/gRPC exporter, <c>otlp_grpc</c> (also accepted under its older name <c>otlp</c>).</summary>
public sealed class OtlpExporterFactory : ExporterFactory<OtlpExporterConfig>
{
    public override string Type => "otlp_grpc";

    public override IReadOnlyList<string> Aliases { get; } = ["otlp"];

    public override IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; } = AllSignals(StabilityLevel.Stable);

    protected override IExporter<T> Create<T>(ComponentCreateSettings settings, OtlpExporterConfig config) =>
        new ExporterHelper<T>(settings, config.HelperOptions, new OtlpGrpcSender<T>(config));
}
