using OtelAi.Engine.Config;
using OtelAi.Engine.Exporter;
using OtelAi.Engine.Settings;
using OtelAi.Exporters.PrometheusCommon;

namespace OtelAi.Exporters.Prometheus;

[ConfigDescription("Serves the metrics it receives for Prometheus to scrape at http://<endpoint>/metrics (text format 0.0.4, or OpenMetrics when enabled and asked for).")]
public sealed record PrometheusExporterConfig : ComponentConfig, IListenEndpoints
{
    public IEnumerable<(string KeyPath, string Endpoint)> ListenEndpoints() => [("endpoint", Server.Endpoint)];

    [ConfigSquash]
    public HttpServerSettings Server { get; init; } = new();

    [ConfigDescription("Prefix of every metric name (namespace_name).")]
    public string Namespace { get; init; } = "";

    [ConfigDescription("Labels added to every series (a point's own label of the same name wins).")]
    public Dictionary<string, string> ConstLabels { get; init; } = new();

    [ConfigDescription("Write each sample's timestamp (the data point's time) in the exposition.")]
    public bool SendTimestamps { get; init; }

    [ConfigDescription("A series not updated for this long is no longer exposed (checked on a timer, whether or not anyone scrapes).")]
    public TimeSpan MetricExpiration { get; init; } = TimeSpan.FromMinutes(5);

    [ConfigDescription("Resource attributes as labels of every series of the resource (deprecated in otelcol in favour of resource_constant_labels).")]
    public ResourceToTelemetryConfig ResourceToTelemetryConversion { get; init; } = new();

    [ConfigDescription("Resource attributes, by wildcard pattern, that become labels of every series of the resource; overrides resource_to_telemetry_conversion.")]
    public ResourceConstantLabelsConfig? ResourceConstantLabels { get; init; }

    [ConfigDescription("Answer scrapers that accept it with OpenMetrics 1.0 text (exemplars on counters and histogram buckets, _created series).")]
    public bool EnableOpenMetrics { get; init; }

    [ConfigDescription("Append unit and type suffixes (_seconds, _total); ignored when translation_strategy is set (otelcol deprecates it).")]
    public bool AddMetricSuffixes { get; init; } = true;

    [ConfigDescription("How metric and label names are translated; unset: by add_metric_suffixes.")]
    public TranslationStrategy? TranslationStrategy { get; init; }

    [ConfigDescription("Leave out the otel_scope_name, otel_scope_version, otel_scope_schema_url and scope attribute labels.")]
    public bool WithoutScopeInfo { get; init; }

    [ConfigDescription("Queue in front of the store of series (disabled: points are stored while the caller waits).")]
    public QueueConfig SendingQueue { get; init; } = new() { Enabled = false };

    [ConfigDescription("otelai: most series kept at once (0 = no limit); points of further series are refused and counted, so a label explosion cannot take all memory.")]
    [ConfigRange(0)]
    public long MaxSeries { get; init; } = 1_000_000;

    internal PromTranslation Translation
    {
        get
        {
            var naming = PrometheusNaming.For(Namespace, TranslationStrategy, AddMetricSuffixes);
            return new PromTranslation
            {
                Naming = naming,
                ExtraLabels = ConstLabels.ToDictionary(pair => naming.LabelName(pair.Key), pair => pair.Value, StringComparer.Ordinal),
                ResourceAttributes = ResourceConstantLabels?.Selector ?? (ResourceToTelemetryConversion.Enabled
                    ? ResourceAttributeSelector.All(ResourceToTelemetryConversion.ExcludeServiceAttributes)
                    : null),
                ScopeLabels = !WithoutScopeInfo,
            };
        }
    }

    public override IEnumerable<ConfigError> Validate()
    {
        if (MetricExpiration <= TimeSpan.Zero) yield return new("metric_expiration", "must be positive");
    }
}
