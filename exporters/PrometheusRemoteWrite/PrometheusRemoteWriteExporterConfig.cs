using OtelAi.Engine.Config;
using OtelAi.Engine.Exporter;
using OtelAi.Engine.Settings;
using OtelAi.Exporters.PrometheusCommon;

namespace OtelAi.Exporters.PrometheusRemoteWrite;

/// <summary>otelcol's <c>remote_write_queue</c>: the exporter's queue (its consumers send the parts of one request side by side).</summary>
public sealed record RemoteWriteQueueConfig : IConfigSection
{
    [ConfigDescription("Queue requests; when false each request is sent while the caller waits.")]
    public bool Enabled { get; init; } = true;

    [ConfigDescription("Requests (OTLP metric batches) the queue holds.")]
    public int QueueSize { get; init; } = 10000;

    [ConfigDescription("Parts of one request (split at max_batch_size_bytes) sent at once. Requests leave the queue one at a time, so samples of a series stay in order.")]
    public int NumConsumers { get; init; } = 5;

    public IEnumerable<ConfigError> Validate()
    {
        if (QueueSize < 0) yield return new("queue_size", "remote write queue size can't be negative");
        if (Enabled && QueueSize == 0) yield return new("queue_size", "a 0 size queue will drop all the data");
        if (NumConsumers < 0) yield return new("num_consumers", "remote write consumer number can't be negative");
    }
}

/// <summary>An on/off switch block (target_info, export_created_metric).</summary>
public sealed record EnabledConfig : IConfigSection
{
    public bool Enabled { get; init; }

    public IEnumerable<ConfigError> Validate() => [];
}

[ConfigDescription("Sends metrics with Prometheus remote write 1.0 (snappy-compressed prometheus.WriteRequest) to Prometheus, Mimir, Cortex, Thanos and the like.")]
public sealed record PrometheusRemoteWriteExporterConfig : ComponentConfig
{
    [ConfigSquash]
    public HttpClientSettings Client { get; init; } = new() { Compression = Compression.None };

    [ConfigSquash]
    public TimeoutSettings TimeoutSettings { get; init; } = new() { Timeout = TimeSpan.FromSeconds(5) };

    [ConfigDescription("Retries of failed requests (429 and 5xx; other 4xx are permanent).")]
    public RetryConfig RetryOnFailure { get; init; } = new()
    {
        InitialInterval = TimeSpan.FromMilliseconds(50),
        MaxInterval = TimeSpan.FromMilliseconds(200),
        MaxElapsedTime = TimeSpan.FromMinutes(1),
    };

    [ConfigDescription("Prefix of every metric name (namespace_name).")]
    public string Namespace { get; init; } = "";

    public RemoteWriteQueueConfig RemoteWriteQueue { get; init; } = new();

    [ConfigDescription("Labels added to every series (a point's own label of the same name wins); names may start with __.")]
    public Dictionary<string, string> ExternalLabels { get; init; } = new();

    [ConfigDescription("Resource attributes as labels of every series of the resource.")]
    public ResourceToTelemetryConfig ResourceToTelemetryConversion { get; init; } = new();

    [ConfigDescription("Send a target_info series per resource with its non-identifying attributes.")]
    public EnabledConfig TargetInfo { get; init; } = new() { Enabled = true };

    [ConfigDescription("Send a _created series (the start time, in seconds) for counters, histograms and summaries.")]
    public EnabledConfig ExportCreatedMetric { get; init; } = new();

    [ConfigDescription("Append unit and type suffixes (_seconds, _total).")]
    public bool AddMetricSuffixes { get; init; } = true;

    [ConfigDescription("Largest uncompressed WriteRequest; bigger batches are split into several requests.")]
    [ConfigRange(1)]
    public long MaxBatchSizeBytes { get; init; } = 3_000_000;

    [ConfigDescription("Send metric metadata (type, help, unit) with the samples.")]
    public bool SendMetadata { get; init; }

    [ConfigDescription("Remote write message: prometheus.WriteRequest (1.0). io.prometheus.write.v2.Request is not supported by this build.")]
    public string ProtobufMessage { get; init; } = "prometheus.WriteRequest";

    /// <summary>otelcol's write-ahead log: accepted when absent only.</summary>
    public ConfigValue? Wal { get; init; }

    internal ExporterHelperOptions HelperOptions => new(TimeoutSettings.Timeout, RetryOnFailure, new QueueConfig
    {
        Enabled = RemoteWriteQueue.Enabled,
        QueueSize = Math.Max(1, RemoteWriteQueue.QueueSize),
        NumConsumers = 1, // one request at a time: Prometheus refuses samples older than a series' latest
    });

    internal PromTranslation Translation
    {
        get
        {
            var naming = PrometheusNaming.For(Namespace, null, AddMetricSuffixes);
            return new PromTranslation
            {
                Naming = naming,
                ExtraLabels = ExternalLabels.ToDictionary(pair => pair.Key.StartsWith("__", StringComparison.Ordinal) ? pair.Key : naming.LabelName(pair.Key), pair => pair.Value, StringComparer.Ordinal),
                ResourceAttributes = ResourceToTelemetryConversion.Enabled ? ResourceAttributeSelector.All(ResourceToTelemetryConversion.ExcludeServiceAttributes) : null,
                ScopeLabels = false,
                TargetInfo = TargetInfo.Enabled,
            };
        }
    }

    public override IEnumerable<ConfigError> Validate()
    {
        if (string.IsNullOrEmpty(Client.Endpoint)) yield return new("endpoint", "must be set: the remote write URL (e.g. http://prometheus:9090/api/v1/write)");
        if (Client.Compression != Compression.None)
            yield return new("compression", "remote write bodies are always snappy-compressed: leave compression unset");
        if (ProtobufMessage != "prometheus.WriteRequest")
            yield return new("protobuf_message", ProtobufMessage == "io.prometheus.write.v2.Request"
                ? "remote write 2.0 is not supported by this build: use prometheus.WriteRequest"
                : $"\"{ProtobufMessage}\" is not a remote write message: use prometheus.WriteRequest");
        if (Wal is not null)
            yield return new("wal", "the write-ahead log is not supported by this build: remote_write_queue with retry_on_failure keeps data through outages; remove wal");
        foreach (var key in ExternalLabels.Keys)
            if (key.Length == 0) yield return new("external_labels", "label names must not be empty");
    }
}
