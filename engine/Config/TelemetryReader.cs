namespace OtelAi.Engine.Config;

/// <summary>
/// <c>service.telemetry</c>: binds logs and metrics onto <see cref="TelemetryConfig"/>, reads otelcol's newer
/// <c>metrics.readers[].pull.exporter.prometheus</c> form as the metrics address, and accepts (with a warning)
/// the otelcol settings otelai does not implement, so otelcol configs still load.
/// </summary>
internal sealed class TelemetryReader(Binder binder, ConfigIssues issues)
{
    internal static readonly string[] LogLevels = ["debug", "info", "warn", "error"];
    internal static readonly string[] LogEncodings = ["console", "json"];
    internal static readonly string[] MetricLevels = ["none", "basic", "normal", "detailed"];

    /// <summary>otelcol keys otelai accepts but does not act on, per section.</summary>
    internal static readonly Dictionary<string, string[]> IgnoredKeys = new()
    {
        [""] = ["traces"],
        ["logs"] = ["development", "disable_caller", "disable_stacktrace", "output_paths", "error_output_paths", "initial_fields", "processors"],
        ["metrics"] = ["views"],
    };

    public TelemetryConfig Read(ConfigNode node, string path)
    {
        if (node is MappingNode mapping) node = Prepare(mapping, path, "");
        var telemetry = (TelemetryConfig?)binder.Bind(node, typeof(TelemetryConfig), new TelemetryConfig(), path) ?? new TelemetryConfig();
        // otelcol reads levels case-insensitively ("INFO", "Detailed"); consumers get them in lower case.
        return telemetry with
        {
            Logs = telemetry.Logs with
            {
                Level = OneOf(telemetry.Logs.Level, LogLevels, node, path, "logs", "level"),
                Encoding = OneOf(telemetry.Logs.Encoding, LogEncodings, node, path, "logs", "encoding"),
            },
            Metrics = telemetry.Metrics with { Level = OneOf(telemetry.Metrics.Level, MetricLevels, node, path, "metrics", "level") },
        };
    }

    /// <summary>Drops ignored keys (warning once each) and rewrites metric readers, in this section and its logs/metrics children.</summary>
    private MappingNode Prepare(MappingNode mapping, string path, string section)
    {
        var entries = new List<MappingEntry>();
        foreach (var entry in mapping.Entries)
        {
            var entryPath = KeyPath.Child(path, entry.Key);
            if (IgnoredKeys[section].Contains(entry.Key))
            {
                issues.Warning(entryPath, "accepted for otelcol compatibility but not used by otelai", entry.KeyLocation);
                continue;
            }
            if (section == "metrics" && entry.Key == "readers")
            {
                if (PrometheusAddress(entry, entryPath) is { } address && mapping.Find("address") is null) entries.Add(address);
                continue;
            }
            var value = section == "" && entry.Value is MappingNode child && IgnoredKeys.ContainsKey(entry.Key)
                ? Prepare(child, entryPath, entry.Key)
                : entry.Value;
            entries.Add(entry with { Value = value });
        }
        return mapping with { Entries = entries };
    }

    /// <summary>
    /// otelcol ≥ 0.111 writes the self-metrics endpoint as
    /// <c>readers: [{pull: {exporter: {prometheus: {host: localhost, port: 8888}}}}]</c>: the first such reader
    /// becomes <c>address</c>; other readers (periodic push) are not supported and are reported.
    /// </summary>
    private MappingEntry? PrometheusAddress(MappingEntry readers, string path)
    {
        if (readers.Value is not SequenceNode sequence)
        {
            issues.Error(path, $"expected a list of metric readers, got {readers.Value.Describe()}", readers.Value.Location);
            return null;
        }
        MappingEntry? address = null;
        for (var i = 0; i < sequence.Items.Count; i++)
        {
            var item = sequence.Items[i];
            var prometheus = Descend(item, "pull", "exporter", "prometheus");
            if (prometheus is null || address is not null)
            {
                issues.Warning(KeyPath.Item(path, i), "only one pull reader with a prometheus exporter is supported; this reader is ignored", item.Location);
                continue;
            }
            var host = (prometheus.Find("host")?.Value as ScalarNode)?.Value ?? "localhost";
            var port = (prometheus.Find("port")?.Value as ScalarNode)?.Value ?? "8888";
            address = new MappingEntry("address", readers.KeyLocation, new ScalarNode($"{host}:{port}", true, item.Location));
        }
        return address;
    }

    private static MappingNode? Descend(ConfigNode? node, params string[] keys)
    {
        foreach (var key in keys) node = (node as MappingNode)?.Find(key)?.Value;
        return node as MappingNode;
    }

    private string OneOf(string value, string[] allowed, ConfigNode node, string path, string section, string key)
    {
        var normalised = value.ToLowerInvariant();
        if (allowed.Contains(normalised)) return normalised;
        issues.Error(KeyPath.Child(KeyPath.Child(path, section), key),
            $"expected one of {string.Join(", ", allowed)}, got \"{value}\"{Suggestions.DidYouMean(value, allowed)}",
            Descend(node, section)?.Find(key)?.Value.Location);
        return value;
    }
}
