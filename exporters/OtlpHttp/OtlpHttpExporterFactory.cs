using Google.Protobuf;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Exporter;
using OtelAi.Otlp;

namespace OtelAi.Exporters.OtlpHttp;

/// <summary>otelcol's OTLP/HTTP exporter, <c>otlp_http</c> (also accepted under its older name <c>otlphttp</c>).</summary>
public sealed class OtlpHttpExporterFactory : ExporterFactory<OtlpHttpExporterConfig>
{
    public override string Type => "otlp_http";

    public override IReadOnlyList<string> Aliases { get; } = ["otlphttp"];

    public override IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; } = AllSignals(StabilityLevel.Stable);

    protected override IExporter<T> Create<T>(ComponentCreateSettings settings, OtlpHttpExporterConfig config) =>
        new ExporterHelper<T>(settings, config.HelperOptions, new OtlpHttpSender<T>(config));
}
