using OtelAi.Engine.Components;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;

namespace OtelAi.Processors.GenAiMetrics;

/// <summary>otelai's <c>genai_metrics</c> connector (traces → metrics).</summary>
public sealed class GenAiMetricsConnectorFactory : ConnectorFactory<GenAiMetricsConfig>
{
    internal static readonly SelfMetric FlushFailures = SelfMetric.Counter("otelai_connector_genai_metrics_flush_failures",
        "Flushes of GenAI metrics the metrics pipeline refused.", "connector");

    public override string Type => "genai_metrics";

    public override IReadOnlyDictionary<(Signal From, Signal To), StabilityLevel> SupportedRoutes { get; } =
        new Dictionary<(Signal, Signal), StabilityLevel> { [(Signal.Traces, Signal.Metrics)] = StabilityLevel.Development };

    protected override IEnumerable<SelfMetric> OwnSelfMetrics => [FlushFailures];

    protected override IExporter<TIn> Create<TIn, TOut>(ComponentCreateSettings settings, GenAiMetricsConfig config, ITelemetryConsumer<TOut> next) =>
        (IExporter<TIn>)(object)new GenAiMetricsConnector(settings, config, (ITelemetryConsumer<ExportMetricsServiceRequest>)(object)next);
}
