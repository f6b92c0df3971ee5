using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;

namespace OtelAi.Exporters.Prometheus;

/// <summary>otelcol-contrib's <c>prometheus</c> exporter: a scrape endpoint for the metrics of its pipelines.</summary>
public sealed class PrometheusExporterFactory : ExporterFactory<PrometheusExporterConfig>
{
    internal static readonly SelfMetric ActiveSeries = SelfMetric.Gauge("otelai_exporter_prometheus_series",
        "Series the prometheus exporter currently exposes.", "exporter");

    internal static readonly SelfMetric RefusedPoints = SelfMetric.Counter("otelai_exporter_prometheus_refused_metric_points",
        "Data points the prometheus exporter did not expose: max_series reached, or invalid (unspecified temporality).", "exporter", "reason");

    internal static readonly SelfMetric ExpiredSeries = SelfMetric.Counter("otelai_exporter_prometheus_expired_series",
        "Series removed after metric_expiration without updates.", "exporter");

    public override string Type => "prometheus";

    public override IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; } = new Dictionary<Signal, StabilityLevel> { [Signal.Metrics] = StabilityLevel.Beta };

    protected override IEnumerable<SelfMetric> OwnSelfMetrics => [ActiveSeries, RefusedPoints, ExpiredSeries];

    protected override IExporter<T> Create<T>(ComponentCreateSettings settings, PrometheusExporterConfig config) =>
        typeof(T) == typeof(ExportMetricsServiceRequest)
            ? (IExporter<T>)(object)new PrometheusExporter(settings, config)
            : throw new NotSupportedException($"exporter \"{settings.Id}\" exports metrics only");
}
