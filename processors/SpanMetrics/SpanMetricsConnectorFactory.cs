using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;

namespace OtelAi.Processors.SpanMetrics;

/// <summary>otelcol-contrib's <c>spanmetrics</c> connector (traces → metrics).</summary>
public sealed class SpanMetricsConnectorFactory : ConnectorFactory<SpanMetricsConfig>
{
    internal static readonly SelfMetric FlushFailures = SelfMetric.Counter("otelai_connector_spanmetrics_flush_failures",
        "Flushes of span metrics the metrics pipeline refused.", "connector");

    public override string Type => "spanmetrics";

    public override IReadOnlyDictionary<(Signal From, Signal To), StabilityLevel> SupportedRoutes { get; } =
        new Dictionary<(Signal, Signal), StabilityLevel> { [(Signal.Traces, Signal.Metrics)] = StabilityLevel.Alpha };

    protected override IEnumerable<SelfMetric> OwnSelfMetrics => [FlushFailures];

    protected override IExporter<TIn> Create<TIn, TOut>(ComponentCreateSettings settings, SpanMetricsConfig config, ITelemetryConsumer<TOut> next) =>
        (IExporter<TIn>)(object)new SpanMetricsConnector(settings, config, (ITelemetryConsumer<ExportMetricsServiceRequest>)(object)next);
}
