using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Exporter;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;

namespace OtelAi.Exporters.PrometheusRemoteWrite;

/// <summary>otelcol-contrib's <c>prometheusremotewrite</c> exporter (also accepted as <c>prometheus_remote_write</c>).</summary>
public sealed class PrometheusRemoteWriteExporterFactory : ExporterFactory<PrometheusRemoteWriteExporterConfig>
{
    internal static readonly SelfMetric TranslatedTimeSeries = SelfMetric.Counter("otelcol_exporter_prometheusremotewrite_translated_time_series",
        "Number of Prometheus time series that were translated from OTel metrics.", "exporter");

    internal static readonly SelfMetric SentBatches = SelfMetric.Counter("otelcol_exporter_prometheusremotewrite_sent_batches",
        "Number of remote write requests the server accepted.", "exporter");

    public override string Type => "prometheusremotewrite";

    protected override IEnumerable<SelfMetric> OwnSelfMetrics => [TranslatedTimeSeries, SentBatches];

    public override IReadOnlyList<string> Aliases { get; } = ["prometheus_remote_write"];

    public override IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; } = new Dictionary<Signal, StabilityLevel> { [Signal.Metrics] = StabilityLevel.Beta };

    protected override IExporter<T> Create<T>(ComponentCreateSettings settings, PrometheusRemoteWriteExporterConfig config) =>
        typeof(T) == typeof(ExportMetricsServiceRequest)
            ? (IExporter<T>)(object)new ExporterHelper<ExportMetricsServiceRequest>(settings, config.HelperOptions, new RemoteWriteSender(config, settings))
            : throw new NotSupportedException($"exporter \"{settings.Id}\" exports metrics only");
}
