using System.Text.RegularExpressions;
using OtelAi.Engine.Config;

namespace OtelAi.Receivers.Prometheus;

public enum RelabelAction
{
    [ConfigKey("replace")] Replace,
    [ConfigKey("keep")] Keep,
    [ConfigKey("drop")] Drop,
    [ConfigKey("labeldrop")] LabelDrop,
    [ConfigKey("labelkeep")] LabelKeep,
    [ConfigKey("labelmap")] LabelMap,
    [ConfigKey("hashmod")] HashMod,
    [ConfigKey("lowercase")] Lowercase,
    [ConfigKey("uppercase")] Uppercase,
    [ConfigKey("keepequal")] KeepEqual,
    [ConfigKey("dropequal")] DropEqual,
}

/// <summary>One Prometheus relabel rule (metric_relabel_configs, relabel_configs), with Prometheus' defaults.</summary>
public sealed record RelabelConfig : IConfigSection
{
    [ConfigDescription("Labels whose values, joined by separator, are matched against regex.")]
    public List<string> SourceLabels { get; init; } = [];

    [ConfigDescription("Joins the source label values.")]
    public string Separator { get; init; } = ";";

    [ConfigDescription("RE2-style regular expression, anchored at both ends.")]
    public string Regex { get; init; } = "(.*)";

    [ConfigDescription("Label written by replace, hashmod, lowercase, uppercase (may use $1 groups); compared by keepequal/dropequal.")]
    public string TargetLabel { get; init; } = "";

    [ConfigDescription("Value written by replace ($1, ${name} are regex groups); new label name for labelmap.")]
    public string Replacement { get; init; } = "$1";

    [ConfigDescription("What the rule does.")]
    public RelabelAction Action { get; init; } = RelabelAction.Replace;

    [ConfigDescription("hashmod: the value is the MD5 of the source value modulo this.")]
    public ulong Modulus { get; init; }

    public IEnumerable<ConfigError> Validate()
    {
        string? error = null;
        try { _ = new Regex("^(?:" + Regex + ")$"); }
        catch (ArgumentException ex) { error = ex.Message; }
        if (error is not null) yield return new("regex", $"invalid regular expression: {error}");
        if (Action is RelabelAction.Replace or RelabelAction.HashMod or RelabelAction.Lowercase or RelabelAction.Uppercase or RelabelAction.KeepEqual or RelabelAction.DropEqual
            && TargetLabel.Length == 0)
            yield return new("target_label", $"relabel configuration for {Action.ToString().ToLowerInvariant()} action requires 'target_label' value");
        if (Action == RelabelAction.HashMod && Modulus == 0) yield return new("modulus", "relabel configuration for hashmod requires non-zero modulus");
        if (Action is RelabelAction.LabelDrop or RelabelAction.LabelKeep && (SourceLabels.Count > 0 || TargetLabel.Length > 0))
            yield return new("action", "labeldrop and labelkeep take only regex");
    }
}

public sealed record StaticConfig : IConfigSection
{
    [ConfigDescription("host:port of each target.")]
    public List<string> Targets { get; init; } = [];

    [ConfigDescription("Labels added to every series of these targets.")]
    public Dictionary<string, string> Labels { get; init; } = new();

    public IEnumerable<ConfigError> Validate()
    {
        foreach (var target in Targets)
            if (!target.Contains(':')) yield return new("targets", $"\"{target}\" is not host:port");
    }
}

/// <summary>Prometheus' tls_config for https targets.</summary>
public sealed record ScrapeTlsConfig : IConfigSection
{
    [ConfigDescription("CA certificates (PEM) the target's certificate must chain to.")]
    public string CaFile { get; init; } = "";

    [ConfigDescription("Client certificate (PEM) for mutual TLS.")]
    public string CertFile { get; init; } = "";

    [ConfigDescription("Client key (PEM) for mutual TLS.")]
    public string KeyFile { get; init; } = "";

    [ConfigDescription("Name expected in the target's certificate (default: the target host).")]
    public string ServerName { get; init; } = "";

    [ConfigDescription("Accept any certificate (testing only).")]
    public bool InsecureSkipVerify { get; init; }

    public IEnumerable<ConfigError> Validate() => [];
}

/// <summary>Prometheus' basic_auth.</summary>
public sealed record BasicAuthConfig : IConfigSection
{
    [ConfigDescription("HTTP basic auth user.")]
    public string Username { get; init; } = "";

    [ConfigDescription("HTTP basic auth password (use ${env:...} rather than writing it in the file).")]
    public string Password { get; init; } = "";

    public IEnumerable<ConfigError> Validate() => [];
}

/// <summary>A Prometheus scrape_config: a job and the targets it scrapes.</summary>
public sealed record ScrapeConfig : IConfigSection
{
    [ConfigDescription("The job label of the targets, and service.name of their resource.")]
    public string JobName { get; init; } = "";

    [ConfigDescription("How often to scrape (default: global.scrape_interval).")]
    public TimeSpan? ScrapeInterval { get; init; }

    [ConfigDescription("How long a scrape may take (default: global.scrape_timeout, at most the interval).")]
    public TimeSpan? ScrapeTimeout { get; init; }

    [ConfigDescription("Path scraped on each target.")]
    public string MetricsPath { get; init; } = "/metrics";

    [ConfigDescription("http or https.")]
    public string Scheme { get; init; } = "http";

    [ConfigDescription("URL query parameters of the scrape.")]
    public Dictionary<string, List<string>> Params { get; init; } = new();

    [ConfigDescription("Fixed target lists (the only service discovery this build has).")]
    public List<StaticConfig> StaticConfigs { get; init; } = [];

    [ConfigDescription("Keep the target's own job/instance and other labels when they collide with the target labels (else they become exported_*).")]
    public bool HonorLabels { get; init; }

    [ConfigDescription("Use the timestamps the target writes.")]
    public bool HonorTimestamps { get; init; } = true;

    [ConfigDescription("Rules over each scraped sample's labels (__name__ included), applied before the samples become OTLP points.")]
    public List<RelabelConfig> MetricRelabelConfigs { get; init; } = [];

    [ConfigDescription("Rules over each target's labels (__address__, __scheme__, __metrics_path__, job) before scraping.")]
    public List<RelabelConfig> RelabelConfigs { get; init; } = [];

    [ConfigDescription("A scrape with more samples than this (after relabeling) fails (0: no limit).")]
    public long SampleLimit { get; init; }

    public ScrapeTlsConfig? TlsConfig { get; init; }

    public BasicAuthConfig? BasicAuth { get; init; }

    public IEnumerable<ConfigError> Validate()
    {
        if (JobName.Length == 0) yield return new("job_name", "must be set");
        if (Scheme is not ("http" or "https")) yield return new("scheme", $"\"{Scheme}\" is not http or https");
        if (!MetricsPath.StartsWith('/')) yield return new("metrics_path", "must start with /");
    }
}

public sealed record PrometheusGlobalConfig : IConfigSection
{
    [ConfigDescription("Default time between scrapes.")]
    public TimeSpan ScrapeInterval { get; init; } = TimeSpan.FromMinutes(1);

    [ConfigDescription("Default limit on one scrape.")]
    public TimeSpan ScrapeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    [ConfigDescription("Labels added to every scraped sample (a sample's own label wins).")]
    public Dictionary<string, string> ExternalLabels { get; init; } = new();

    public IEnumerable<ConfigError> Validate()
    {
        if (ScrapeInterval <= TimeSpan.Zero) yield return new("scrape_interval", "must be positive");
        if (ScrapeTimeout <= TimeSpan.Zero) yield return new("scrape_timeout", "must be positive");
    }
}

/// <summary>The embedded Prometheus configuration: global defaults and the scrape configs.</summary>
public sealed record PrometheusScrapeSettings : IConfigSection
{
    [ConfigDescription("Defaults for every scrape config.")]
    public PrometheusGlobalConfig Global { get; init; } = new();

    [ConfigDescription("The jobs to scrape.")]
    public List<ScrapeConfig> ScrapeConfigs { get; init; } = [];

    public IEnumerable<ConfigError> Validate()
    {
        var jobs = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < ScrapeConfigs.Count; i++)
        {
            var scrape = ScrapeConfigs[i];
            if (scrape.JobName.Length > 0 && !jobs.Add(scrape.JobName)) yield return new($"scrape_configs[{i}].job_name", $"found multiple scrape configs with job name \"{scrape.JobName}\"");
            var interval = scrape.ScrapeInterval ?? Global.ScrapeInterval;
            var timeout = scrape.ScrapeTimeout ?? Global.ScrapeTimeout;
            if (scrape.ScrapeTimeout is not null && timeout > interval)
                yield return new($"scrape_configs[{i}].scrape_timeout", $"scrape timeout greater than scrape interval for scrape config with job name \"{scrape.JobName}\"");
        }
    }
}

[ConfigDescription("Scrapes Prometheus targets (text format 0.0.4 and OpenMetrics) like a Prometheus server, and turns the samples into OTLP metrics.")]
public sealed record PrometheusReceiverConfig : ComponentConfig
{
    [ConfigDescription("A Prometheus configuration: global and scrape_configs (static_configs targets).")]
    public PrometheusScrapeSettings Config { get; init; } = new();

    [ConfigDescription("Drop type and unit suffixes (_total, _seconds, ...) from metric names.")]
    public bool TrimMetricSuffixes { get; init; }

    [ConfigDescription("Take start times of cumulative series from a start-time metric (process_start_time_seconds).")]
    public bool UseStartTimeMetric { get; init; }

    [ConfigDescription("With use_start_time_metric: the metric to read (regular expression; default process_start_time_seconds).")]
    public string StartTimeMetricRegex { get; init; } = "";

    [ConfigDescription("Also emit scrape_timeout_seconds and scrape_sample_limit per target.")]
    public bool ReportExtraScrapeMetrics { get; init; }

    public override IEnumerable<ConfigError> Validate()
    {
        if (Config.ScrapeConfigs.Count == 0) yield return new("config.scrape_configs", "no scrape configs: give at least one job with targets");
    }
}
