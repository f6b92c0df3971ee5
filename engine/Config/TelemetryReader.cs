namespace OtelAi.Engine.Config;

/// <summary>
/// <c>service.telemetry</c>: binds logs and metrics onto <see cref="TelemetryConfig"/>, reads otelcol's newer
/// <c>metrics.readers[].pull.exporter.prometheus</c> form as the metrics address and its periodic OTLP readers as
/// push readers (an otlp or otlphttp exporter config), and accepts (with a warning) the otelcol settings otelai does
/// not implement, so otelcol configs still load.
/// </summary>
internal sealed class TelemetryReader(Binder binder, ConfigIssues issues, Components.ComponentRegistry registry)
{
    private readonly List<MetricsPushReader> _pushReaders = [];

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
        var metricsNode = (node as MappingNode)?.Find("metrics")?.Value as MappingNode;
        var addressNamed = metricsNode?.Find("address") is not null || metricsNode?.Find("readers") is not null;
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
            Metrics = telemetry.Metrics with
            {
                Level = OneOf(telemetry.Metrics.Level, MetricLevels, node, path, "metrics", "level"), PushReaders = _pushReaders,
                AddressConfigured = addressNamed,
            },
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
    /// becomes <c>address</c>; periodic readers with an OTLP exporter become push readers; others are reported.
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
            if (Descend(item, "periodic") is { } periodic)
            {
                ReadPeriodic(periodic, KeyPath.Child(KeyPath.Item(path, i), "periodic"));
                continue;
            }
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
        // As in otelcol, readers replace the default: without a pull reader nothing is served for scraping.
        return address ?? new MappingEntry("address", readers.KeyLocation, new ScalarNode("", true, readers.KeyLocation));
    }

    /// <summary>
    /// A periodic reader (OpenTelemetry's declarative config: <c>interval</c> and <c>timeout</c> in milliseconds, an
    /// <c>otlp</c> exporter with <c>protocol</c>, or <c>otlp_http</c> / <c>otlp_grpc</c>) as an otlp (gRPC) or otlphttp
    /// exporter config, bound and validated like a component's; it sends once per interval, without retries or queue
    /// (the next push carries the same cumulative values).
    /// </summary>
    private void ReadPeriodic(MappingNode periodic, string path)
    {
        var interval = TimeSpan.FromMilliseconds(60_000);
        var timeout = TimeSpan.FromMilliseconds(30_000);
        MappingEntry? exporter = null;
        foreach (var entry in periodic.Entries)
        {
            var entryPath = KeyPath.Child(path, entry.Key);
            switch (entry.Key)
            {
                case "interval": interval = Milliseconds(entry, entryPath) ?? interval; break;
                case "timeout": timeout = Milliseconds(entry, entryPath) ?? timeout; break;
                case "exporter": exporter = (entry.Value as MappingNode)?.Entries.FirstOrDefault(); break;
                default: issues.Warning(entryPath, "accepted for otelcol compatibility but not used by otelai", entry.KeyLocation); break;
            }
        }
        var exporterPath = KeyPath.Child(path, "exporter");
        if (exporter is not { Value: MappingNode otlp } || exporter.Key is not ("otlp" or "otlp_http" or "otlp_grpc"))
        {
            issues.Warning(exporterPath, "only periodic readers with an otlp, otlp_http or otlp_grpc exporter push self-metrics; this reader is ignored", periodic.Location);
            return;
        }
        exporterPath = KeyPath.Child(exporterPath, exporter.Key);
        var protocol = exporter.Key switch
        {
            "otlp_grpc" => "grpc",
            "otlp_http" => (otlp.Find("encoding")?.Value as ScalarNode)?.Value == "json" ? "http/json" : "http/protobuf",
            _ => (otlp.Find("protocol")?.Value as ScalarNode)?.Value ?? "http/protobuf",
        };
        if (protocol is not ("grpc" or "http/protobuf" or "http/json"))
        {
            issues.Error(KeyPath.Child(exporterPath, "protocol"), $"expected one of grpc, http/protobuf, http/json, got \"{protocol}\"", otlp.Find("protocol")?.Value.Location);
            return;
        }
        var type = protocol == "grpc" ? "otlp" : "otlphttp";
        if (!registry.TryGet(Components.ComponentKind.Exporter, type, out var factory))
        {
            issues.Error(exporterPath, $"pushing self-metrics needs the {type} exporter, which this build does not register", otlp.Location);
            return;
        }
        var node = ExporterNode(otlp, exporterPath, protocol, timeout);
        var errorsBefore = issues.ErrorCount;
        var config = (ComponentConfig)binder.Bind(node, factory.ConfigType, factory.CreateDefaultConfig(), exporterPath)!;
        if (issues.ErrorCount == errorsBefore)
            foreach (var error in ConfigValidation.Validate(config))
                issues.Error(error.Path.Length == 0 ? exporterPath : KeyPath.Child(exporterPath, error.Path), error.Message, otlp.Location);
        _pushReaders.Add(new MetricsPushReader(type, config, interval));
    }

    /// <summary>The reader's exporter settings under our exporters' keys (locations kept, so errors point at the reader).</summary>
    private MappingNode ExporterNode(MappingNode otlp, string path, string protocol, TimeSpan timeout)
    {
        var at = otlp.Location;
        ScalarNode Scalar(string value) => new(value, true, at);
        MappingEntry Entry(string key, ConfigNode value) => new(key, at, value);
        var entries = new List<MappingEntry>();
        var tls = new List<MappingEntry>();
        foreach (var entry in otlp.Entries)
        {
            var entryPath = KeyPath.Child(path, entry.Key);
            switch (entry.Key)
            {
                case "protocol" or "encoding":
                    break;
                case "endpoint" when protocol != "grpc" && entry.Value is ScalarNode { Value: { } url } && Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.AbsolutePath.Length > 1:
                    entries.Add(entry with { Key = "metrics_endpoint" }); // the declarative config's HTTP endpoint includes the path
                    break;
                case "endpoint" or "compression":
                    entries.Add(entry);
                    break;
                case "timeout":
                    if (Milliseconds(entry, entryPath) is { } ms) timeout = ms;
                    break;
                case "headers":
                    entries.Add(entry with { Value = HeaderMap(entry.Value) });
                    break;
                case "headers_list" when entry.Value is ScalarNode { Value: { } list }:
                    entries.Add(entry with
                    {
                        Key = "headers",
                        Value = new MappingNode([.. list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                            .Select(pair => pair.Split('=', 2)).Where(kv => kv.Length == 2)
                            .Select(kv => new MappingEntry(kv[0].Trim(), entry.KeyLocation, new ScalarNode(kv[1].Trim(), true, entry.Value.Location)))], entry.Value.Location),
                    });
                    break;
                case "insecure":
                    tls.Add(entry);
                    break;
                case "certificate" or "certificate_file":
                    tls.Add(entry with { Key = "ca_file" });
                    break;
                case "client_certificate" or "client_certificate_file":
                    tls.Add(entry with { Key = "cert_file" });
                    break;
                case "client_key" or "client_key_file":
                    tls.Add(entry with { Key = "key_file" });
                    break;
                default:
                    issues.Warning(entryPath, "accepted for otelcol compatibility but not used by otelai", entry.KeyLocation);
                    break;
            }
        }
        if (protocol == "http/json") entries.Add(Entry("encoding", Scalar("json")));
        if (tls.Count > 0) entries.Add(Entry("tls", new MappingNode(tls, at)));
        entries.Add(Entry("timeout", Scalar($"{(long)timeout.TotalMilliseconds}ms")));
        entries.Add(Entry("retry_on_failure", new MappingNode([Entry("enabled", Scalar("false"))], at)));
        entries.Add(Entry("sending_queue", new MappingNode([Entry("enabled", Scalar("false"))], at)));
        return new MappingNode(entries, at);
    }

    /// <summary>Headers as the declarative config lists them (<c>[{name, value}]</c>) or as a map.</summary>
    private static ConfigNode HeaderMap(ConfigNode headers) => headers is SequenceNode list
        ? new MappingNode([.. list.Items.OfType<MappingNode>()
            .Where(h => h.Find("name")?.Value is ScalarNode { Value: not null } && h.Find("value") is not null)
            .Select(h => new MappingEntry(((ScalarNode)h.Find("name")!.Value).Value!, h.Location, h.Find("value")!.Value))], headers.Location)
        : headers;

    /// <summary>A duration in the declarative config's milliseconds (a number), or a duration text (10s).</summary>
    private TimeSpan? Milliseconds(MappingEntry entry, string path)
    {
        if (entry.Value is ScalarNode { Value: { } text })
        {
            if (long.TryParse(text, out var ms) && ms > 0) return TimeSpan.FromMilliseconds(ms);
            if (Durations.TryParse(text, out var duration) && duration > TimeSpan.Zero) return duration;
        }
        issues.Error(path, "expected a positive number of milliseconds", entry.Value.Location);
        return null;
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
