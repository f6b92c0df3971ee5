using OtelAi.Engine.Components;
using OtelAi.Otlp;

namespace OtelAi.Engine.Config;

/// <summary>
/// A whole collector config after expansion, merging and binding: what the service graph is built from.
/// Produced by the config loader from YAML, or written directly by a library user.
/// </summary>
public sealed record ServiceConfig
{
    public IReadOnlyDictionary<ComponentId, ComponentConfig> Receivers { get; init; } = new Dictionary<ComponentId, ComponentConfig>();
    public IReadOnlyDictionary<ComponentId, ComponentConfig> Processors { get; init; } = new Dictionary<ComponentId, ComponentConfig>();
    public IReadOnlyDictionary<ComponentId, ComponentConfig> Exporters { get; init; } = new Dictionary<ComponentId, ComponentConfig>();
    public IReadOnlyDictionary<ComponentId, ComponentConfig> Connectors { get; init; } = new Dictionary<ComponentId, ComponentConfig>();
    public IReadOnlyDictionary<ComponentId, ComponentConfig> Extensions { get; init; } = new Dictionary<ComponentId, ComponentConfig>();

    /// <summary><c>service.extensions</c>: the extensions to start, in order.</summary>
    public IReadOnlyList<ComponentId> ServiceExtensions { get; init; } = [];

    public IReadOnlyDictionary<PipelineId, PipelineConfig> Pipelines { get; init; } = new Dictionary<PipelineId, PipelineConfig>();

    public TelemetryConfig Telemetry { get; init; } = new();

    /// <summary>otelai's <c>service.shutdown_timeout</c>: the drain budget on stop (null: the collector's default, 30 s).</summary>
    public TimeSpan? ShutdownTimeout { get; init; }

    /// <summary>Where each key path came from, for error messages; empty for configs built in code.</summary>
    public ConfigSourceMap Source { get; init; } = ConfigSourceMap.Empty;

    /// <summary>The merged, expanded YAML it was read from (the live page shows each component's part, redacted); null for configs built in code.</summary>
    internal MappingNode? Effective { get; init; }
}

/// <summary>A pipeline id: <c>traces</c>, <c>metrics/name</c>, ...</summary>
public readonly record struct PipelineId(Signal Signal, string Name = "")
{
    public override string ToString() => Name.Length == 0 ? Signal.ToConfigName() : $"{Signal.ToConfigName()}/{Name}";

    public static bool TryParse(string text, out PipelineId id)
    {
        var slash = text.IndexOf('/');
        var signalText = slash < 0 ? text : text[..slash];
        var name = slash < 0 ? "" : text[(slash + 1)..];
        id = default;
        if (!SignalNames.TryParse(signalText, out var signal) || (slash >= 0 && name.Length == 0)) return false;
        id = new PipelineId(signal, name);
        return true;
    }
}

public sealed record PipelineConfig
{
    public IReadOnlyList<ComponentId> Receivers { get; init; } = [];
    public IReadOnlyList<ComponentId> Processors { get; init; } = [];
    public IReadOnlyList<ComponentId> Exporters { get; init; } = [];
}

/// <summary><c>service.telemetry</c>.</summary>
public sealed record TelemetryConfig
{
    public TelemetryLogsConfig Logs { get; init; } = new();
    public TelemetryMetricsConfig Metrics { get; init; } = new();

    /// <summary>
    /// otelcol's <c>service.telemetry.resource</c>: service.name, service.instance.id and service.version label the
    /// engine's own metrics (defaults: otelai, a UUID per start, the build's version); a null value leaves one out.
    /// </summary>
    public Dictionary<string, string?> Resource { get; init; } = new();
}

public sealed record TelemetryLogsConfig
{
    /// <summary>debug, info, warn or error.</summary>
    public string Level { get; init; } = "info";

    /// <summary>console (one human-readable line per event) or json.</summary>
    public string Encoding { get; init; } = "console";

    /// <summary>otelcol's log sampling: repeated messages are thinned so a failing backend cannot flood the log.</summary>
    public LogSamplingConfig Sampling { get; init; } = new();
}

/// <summary>Per message (level and template) and per tick: the first <see cref="Initial"/> are written, then every <see cref="Thereafter"/>-th.</summary>
public sealed record LogSamplingConfig
{
    public bool Enabled { get; init; } = true;

    public TimeSpan Tick { get; init; } = TimeSpan.FromSeconds(10);

    public int Initial { get; init; } = 10;

    public int Thereafter { get; init; } = 100;
}

public sealed record TelemetryMetricsConfig
{
    /// <summary>none, basic, normal or detailed; none turns the endpoint off.</summary>
    public string Level { get; init; } = "normal";

    /// <summary>Prometheus pull endpoint for the engine's own metrics.</summary>
    public string Address { get; init; } = "localhost:8888";

    /// <summary>
    /// Whether the config names the endpoint (<c>address</c> or <c>readers</c>) rather than leaving the default; an
    /// embedded collector (<see cref="CollectorOptions.ServeDefaultSelfMetricsEndpoint"/> false) serves only a named one.
    /// </summary>
    public bool AddressConfigured { get; init; }

    /// <summary>otelai: serve the pull endpoint over TLS (the shared server TLS settings, reload_interval included).</summary>
    public Settings.TlsServerSettings? Tls { get; init; }

    /// <summary>otelcol's periodic OTLP readers (<c>readers[].periodic.exporter.otlp</c>), each pushing the self-metrics through an exporter.</summary>
    public IReadOnlyList<MetricsPushReader> PushReaders { get; internal init; } = [];
}

/// <summary>A periodic reader: every <see cref="Interval"/> the self-metrics go to an exporter of <see cref="ExporterType"/> (otlp or otlphttp).</summary>
public sealed record MetricsPushReader(string ExporterType, ComponentConfig ExporterConfig, TimeSpan Interval);

/// <summary>A position in a config file.</summary>
public sealed record SourceLocation(string File, int Line, int Column)
{
    public override string ToString() => $"{File}:{Line}:{Column}";
}

/// <summary>Key path (e.g. <c>service.pipelines.traces.exporters[1]</c>) → the place in the YAML that set it.</summary>
public sealed class ConfigSourceMap
{
    public static ConfigSourceMap Empty { get; } = new(new Dictionary<string, SourceLocation>());

    private readonly IReadOnlyDictionary<string, SourceLocation> _locations;

    public ConfigSourceMap(IReadOnlyDictionary<string, SourceLocation> locations) => _locations = locations;

    /// <summary>The location of the path, or of its closest ancestor that has one.</summary>
    public SourceLocation? Locate(string keyPath)
    {
        for (var path = keyPath; path.Length > 0; path = Parent(path))
            if (_locations.TryGetValue(path, out var location)) return location;
        return null;
    }

    private static string Parent(string path)
    {
        var cut = Math.Max(path.LastIndexOf('.'), path.LastIndexOf('['));
        return cut <= 0 ? "" : path[..cut];
    }
}

public enum ConfigIssueSeverity { Error, Warning }

/// <summary>One problem found in a config: where, which key, what is expected.</summary>
public sealed record ConfigIssue(ConfigIssueSeverity Severity, string KeyPath, string Message, SourceLocation? Location)
{
    public override string ToString() =>
        $"{(Location is null ? "" : Location + ": ")}{(Severity == ConfigIssueSeverity.Warning ? "warning: " : "")}{(KeyPath.Length == 0 ? "" : KeyPath + ": ")}{Message}";
}

/// <summary>A config that cannot run; <see cref="Issues"/> lists every error (and warnings) found.</summary>
public sealed class ConfigException(IReadOnlyList<ConfigIssue> issues)
    : Exception("invalid configuration:\n" + string.Join("\n", issues.Select(i => "  " + i)))
{
    public IReadOnlyList<ConfigIssue> Issues { get; } = issues;
}
