using OtelAi.Engine.Config;

namespace OtelAi.Processors.Anomaly;

public enum AnomalySource
{
    /// <summary>Each span's duration (in the series' unit).</summary>
    [ConfigKey("span_duration")] SpanDuration,
    /// <summary>A numeric span attribute (e.g. gen_ai.usage.output_tokens, a confidence score).</summary>
    [ConfigKey("span_attribute")] SpanAttribute,
    /// <summary>1 for a span with error status, else 0: the mean is the error ratio, the count the request count.</summary>
    [ConfigKey("span_error")] SpanError,
    /// <summary>
    /// The value of each gauge or sum data point of a metric (e.g. DCGM_FI_DEV_FB_USED); for a histogram, the
    /// observations it counted (cumulative points by their increase), so quantiles are the histogram's quantiles.
    /// </summary>
    [ConfigKey("metric")] Metric,
}

public enum DurationUnit
{
    [ConfigKey("ms")] Milliseconds,
    [ConfigKey("s")] Seconds,
}

/// <summary>A named input series: which values, grouped by which keys.</summary>
public sealed record AnomalySeriesConfig : IConfigSection
{
    public string Name { get; init; } = "";

    public AnomalySource Source { get; init; } = AnomalySource.SpanDuration;

    [ConfigDescription("span_attribute: the attribute key.")]
    public string Attribute { get; init; } = "";

    [ConfigDescription("metric: the metric name.")]
    public string Metric { get; init; } = "";

    [ConfigDescription("span_duration: the unit of the values.")]
    public DurationUnit Unit { get; init; } = DurationUnit.Milliseconds;

    [ConfigDescription("Only spans or data points whose attributes (or resource attributes) have these values.")]
    public Dictionary<string, string> Match { get; init; } = new();

    [ConfigDescription("An OTTL condition a span (span context) or data point (datapoint context) must meet, e.g. attributes[\"http.route\"] == \"/v1/chat/completions\".")]
    public string Condition { get; init; } = "";

    [ConfigDescription("Attributes (then resource attributes) that split the series into groups, e.g. model_id, model_version, service.instance.id.")]
    public List<string> GroupBy { get; init; } = [];

    public IEnumerable<ConfigError> Validate()
    {
        if (Name.Length == 0) yield return new("name", "must be set");
        if (Source == AnomalySource.SpanAttribute && Attribute.Length == 0) yield return new("attribute", "span_attribute needs the attribute key");
        if (Source == AnomalySource.Metric && Metric.Length == 0) yield return new("metric", "metric needs the metric name");
        string? conditionError = null;
        try { _ = CompiledCondition(); }
        catch (Ottl.OttlCompileException e) { conditionError = e.Message; }
        if (conditionError is not null) yield return new("condition", conditionError);
    }

    /// <summary>The condition compiled for the series' context, or null when none is set.</summary>
    internal Ottl.OttlCondition? CompiledCondition() => Condition.Length == 0 ? null
        : Ottl.OttlLanguage.CompileCondition(Condition, Source == AnomalySource.Metric ? Ottl.OttlContextKind.DataPoint : Ottl.OttlContextKind.Span);
}

public enum AnomalyDetector
{
    /// <summary>The statistic against a fixed bound (above / below).</summary>
    [ConfigKey("threshold")] Threshold,
    /// <summary>The statistic divided by its value in the previous window, against above / below.</summary>
    [ConfigKey("ratio_to_previous")] RatioToPrevious,
    /// <summary>|x − μ| / σ of the statistic over the last history windows, against above (k).</summary>
    [ConfigKey("sigma")] Sigma,
    /// <summary>Population stability index of the window's distribution against the reference, against above (0.2 = significant drift).</summary>
    [ConfigKey("psi")] Psi,
    /// <summary>Two-sample Kolmogorov–Smirnov distance of the window's distribution against the reference, against above.</summary>
    [ConfigKey("ks")] Ks,
    /// <summary>The canary group's statistic divided by the baseline group's, against above / below.</summary>
    [ConfigKey("compare")] Compare,
}

public enum AlertLevel
{
    [ConfigKey("WARN")] Warn,
    [ConfigKey("CRIT")] Crit,
}

public enum DriftReference
{
    /// <summary>The window before the current one (the baseline moves).</summary>
    [ConfigKey("previous")] Previous,
    /// <summary>The first full window the group had (a fixed reference).</summary>
    [ConfigKey("first")] First,
}

public sealed record CompareConfig : IConfigSection
{
    [ConfigDescription("The group_by key that tells the versions apart, e.g. model_version.")]
    public string Label { get; init; } = "";

    [ConfigDescription("Its value for the canary.")]
    public string Canary { get; init; } = "";

    [ConfigDescription("Its value for the baseline (stable).")]
    public string Baseline { get; init; } = "";

    public IEnumerable<ConfigError> Validate()
    {
        if (Label.Length == 0 || Canary.Length == 0 || Baseline.Length == 0) yield return new("", "label, canary and baseline must all be set");
    }
}

/// <summary>One alert rule over one series.</summary>
public sealed record AnomalyRuleConfig : IConfigSection
{
    public string Name { get; init; } = "";

    [ConfigDescription("The series (by name) the rule reads.")]
    public string Series { get; init; } = "";

    public Statistic Statistic { get; init; } = Statistic.P95;

    public AnomalyDetector Detector { get; init; } = AnomalyDetector.Threshold;

    [ConfigDescription("Fires when the detector's value is above this (threshold, ratio, k for sigma, PSI, KS distance).")]
    public double? Above { get; init; }

    [ConfigDescription("Fires when the detector's value is below this.")]
    public double? Below { get; init; }

    [ConfigDescription("sigma: how many earlier windows make the history.")]
    [ConfigRange(2, 1000)]
    public int History { get; init; } = 10;

    [ConfigDescription("sigma: weigh the history exponentially (EWMA): the newest earlier window by 1, each older one by (1 − smoothing) times the next newer; unset: every history window weighs the same.")]
    public double? Smoothing { get; init; }

    [ConfigDescription("psi, ks: what the window is compared with.")]
    public DriftReference Reference { get; init; } = DriftReference.Previous;

    public CompareConfig? Compare { get; init; }

    [ConfigDescription("How long the condition must hold (checked every step) before the alert fires; 0 fires at once.")]
    public TimeSpan For { get; init; }

    public AlertLevel Level { get; init; } = AlertLevel.Warn;

    [ConfigDescription("A combined rule: active when all of these rules (of the same series) are active for the group; series, statistic and detector are not used.")]
    public List<string> All { get; init; } = [];

    [ConfigDescription("A combined rule: active when any of these rules (of the same series) is active for the group.")]
    public List<string> Any { get; init; } = [];

    internal bool IsCombination => All.Count > 0 || Any.Count > 0;

    [ConfigDescription("A building block of all/any rules only: its verdicts go to the gauges, but it raises no alert of its own.")]
    public bool Silent { get; init; }

    [ConfigDescription("Least values in the window for the rule to judge it (fewer: no verdict, the state is kept).")]
    [ConfigRange(1)]
    public int MinCount { get; init; } = 1;

    public IEnumerable<ConfigError> Validate()
    {
        if (Name.Length == 0) yield return new("name", "must be set");
        if (All.Count > 0 && Any.Count > 0) yield return new("all", "a rule combines with all or any, not both");
        if (IsCombination) yield break;
        if (Series.Length == 0) yield return new("series", "must name a series");
        if (Above is null && Below is null && Detector is not (AnomalyDetector.Psi or AnomalyDetector.Ks or AnomalyDetector.Sigma))
            yield return new("above", "set above or below");
        if (Detector == AnomalyDetector.Compare && Compare is null) yield return new("compare", "the compare detector needs compare.label, canary and baseline");
        if (Smoothing is { } smoothing && !(smoothing > 0 && smoothing < 1)) yield return new("smoothing", $"{smoothing} is not between 0 and 1 (exclusive)");
    }
}

/// <summary>A generic webhook for alerts: the JSON Alertmanager sends its webhook receivers, retried on failure.</summary>
public sealed record AlertWebhookConfig : IConfigSection
{
    [ConfigDescription("URL the alerts are posted to.")]
    public string Endpoint { get; init; } = "";

    [ConfigDescription("Headers sent with every post (e.g. authorization).")]
    public Dictionary<string, string> Headers { get; init; } = new();

    [ConfigDescription("Deadline of one attempt.")]
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    [ConfigDescription("Attempts per post (429, 5xx and unreachable are retried; other answers are final).")]
    [ConfigRange(1, 20)]
    public int MaxAttempts { get; init; } = 3;

    [ConfigDescription("Wait before the first retry; it doubles for each further one.")]
    public TimeSpan InitialInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    public IEnumerable<ConfigError> Validate()
    {
        if (!Uri.TryCreate(Endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            yield return new("endpoint", $"\"{Endpoint}\" is not an http:// or https:// URL");
    }
}

public sealed record AlertmanagerConfig : IConfigSection
{
    [ConfigDescription("Alertmanager's base URL; alerts go to <endpoint>/api/v2/alerts.")]
    public string Endpoint { get; init; } = "";

    [ConfigDescription("How often firing alerts are sent again (Alertmanager resolves alerts it stops hearing about).")]
    public TimeSpan ResendInterval { get; init; } = TimeSpan.FromMinutes(1);

    [ConfigDescription("Deadline of one post.")]
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    [ConfigDescription("Labels added to every alert (e.g. cluster).")]
    public Dictionary<string, string> Labels { get; init; } = new();

    public IEnumerable<ConfigError> Validate()
    {
        if (!Uri.TryCreate(Endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            yield return new("endpoint", $"\"{Endpoint}\" is not an http:// or https:// URL");
    }
}

[ConfigDescription("otelai: sliding-window statistics of spans or metrics per group (p50/p95/p99 within 1 %, mean, stddev, min/max, peak-to-trough, slope, rate) judged by threshold, ratio-to-previous, sigma, PSI/KS drift and canary-vs-baseline rules; alerts as log records, gauges as metrics, and to Prometheus Alertmanager.")]
public sealed record AnomalyConfig : ComponentConfig
{
    [ConfigDescription("Length of the window the statistics are computed over.")]
    public TimeSpan Window { get; init; } = TimeSpan.FromSeconds(60);

    [ConfigDescription("How often the window slides and the rules are evaluated.")]
    public TimeSpan Step { get; init; } = TimeSpan.FromSeconds(5);

    [ConfigDescription("Most groups per series; values of further groups are counted and dropped.")]
    [ConfigRange(1)]
    public int MaxGroups { get; init; } = 1000;

    public List<AnomalySeriesConfig> Series { get; init; } = [];

    public List<AnomalyRuleConfig> Rules { get; init; } = [];

    public AlertmanagerConfig? Alertmanager { get; init; }

    public AlertWebhookConfig? Webhook { get; init; }

    [ConfigDescription("Id of a storage extension (e.g. file_storage) that keeps windows, histories and alert states across restarts, saved every window and at shutdown.")]
    public OtelAi.Engine.Components.ComponentId? Storage { get; init; }

    public override IEnumerable<ConfigError> Validate()
    {
        if (Step <= TimeSpan.Zero) yield return new("step", "must be positive");
        if (Window < Step || Window.Ticks % Math.Max(1, Step.Ticks) != 0) yield return new("window", "must be a whole number of steps");
        if (Rules.Count == 0) yield return new("rules", "give at least one rule");
        var names = Series.Select(s => s.Name).ToHashSet();
        var rules = Rules.ToDictionary(r => r.Name, r => r);
        for (var i = 0; i < Rules.Count; i++)
        {
            var rule = Rules[i];
            if (rule.IsCombination)
            {
                var members = rule.All.Concat(rule.Any).ToList();
                foreach (var member in members)
                {
                    if (!rules.TryGetValue(member, out var target)) yield return new($"rules[{i}].{(rule.All.Count > 0 ? "all" : "any")}", $"no rule named \"{member}\"");
                    else if (target.IsCombination) yield return new($"rules[{i}]", $"\"{member}\" is itself a combination: combine plain rules");
                }
                if (members.Where(rules.ContainsKey).Select(m => rules[m].Series).Distinct().Count() > 1)
                    yield return new($"rules[{i}]", "combined rules must read the same series (their groups are matched)");
                continue;
            }
            if (rule.Series.Length > 0 && !names.Contains(rule.Series)) yield return new($"rules[{i}].series", $"no series named \"{rule.Series}\"");
            if (rule.Compare is { } compare && Series.FirstOrDefault(s => s.Name == rule.Series) is { } series && !series.GroupBy.Contains(compare.Label))
                yield return new($"rules[{i}].compare.label", $"\"{compare.Label}\" is not among the series' group_by keys");
        }
    }
}
