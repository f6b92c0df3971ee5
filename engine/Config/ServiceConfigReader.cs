using OtelAi.Engine.Components;

namespace OtelAi.Engine.Config;

/// <summary>
/// Reads otelcol's document shape (component sections and <c>service</c>) from the merged, expanded tree, binding
/// each component's config through its factory's config type and running its <see cref="ComponentConfig.Validate"/>.
/// Whether pipelines refer to defined components is the service graph's check, not this one's.
/// </summary>
internal sealed class ServiceConfigReader(ComponentRegistry registry, ConfigIssues issues)
{
    private static readonly (string Key, ComponentKind Kind)[] ComponentSections =
    [
        ("receivers", ComponentKind.Receiver), ("processors", ComponentKind.Processor), ("exporters", ComponentKind.Exporter),
        ("connectors", ComponentKind.Connector), ("extensions", ComponentKind.Extension),
    ];

    private const string ServiceKey = "service";
    private static readonly string[] ServiceKeys = ["extensions", "pipelines", "telemetry", "shutdown_timeout"];

    private readonly Binder _binder = new(issues);

    public ServiceConfig Read(MappingNode root, ConfigSourceMap source)
    {
        var validKeys = ComponentSections.Select(s => s.Key).Append(ServiceKey).Order(StringComparer.Ordinal).ToList();
        foreach (var entry in root.Entries.Where(e => !validKeys.Contains(e.Key)))
            issues.Error(entry.Key, Binder.UnknownKey(entry.Key, validKeys), entry.KeyLocation);

        var components = ComponentSections.ToDictionary(s => s.Kind, s => ReadComponents(root.Find(s.Key), s.Key, s.Kind, source));
        var config = new ServiceConfig
        {
            Receivers = components[ComponentKind.Receiver],
            Processors = components[ComponentKind.Processor],
            Exporters = components[ComponentKind.Exporter],
            Connectors = components[ComponentKind.Connector],
            Extensions = components[ComponentKind.Extension],
            Source = source,
        };
        var service = root.Find(ServiceKey);
        return service is null ? config : ReadService(service, config);
    }

    private Dictionary<ComponentId, ComponentConfig> ReadComponents(MappingEntry? section, string sectionKey, ComponentKind kind, ConfigSourceMap source)
    {
        var result = new Dictionary<ComponentId, ComponentConfig>();
        if (section is null || section.Value is ScalarNode { IsNull: true }) return result;
        if (section.Value is not MappingNode mapping)
        {
            issues.Error(sectionKey, $"expected a mapping of {KindName(kind)} ids (type or type/name) to their configs, got {section.Value.Describe()}", section.Value.Location);
            return result;
        }
        foreach (var entry in mapping.Entries)
        {
            var path = KeyPath.Child(sectionKey, entry.Key);
            if (!ComponentId.TryParse(entry.Key, out var id, out var idError))
            {
                issues.Error(path, idError!, entry.KeyLocation);
                continue;
            }
            if (!registry.TryGet(kind, id.Type, out var factory))
            {
                issues.Error(path, UnknownType(kind, id.Type), entry.KeyLocation);
                continue;
            }
            var errorsBefore = issues.ErrorCount;
            var config = (ComponentConfig)_binder.Bind(entry.Value, factory.ConfigType, factory.CreateDefaultConfig(), path)!;
            // Cross-field rules only make sense on values that bound cleanly.
            if (issues.ErrorCount == errorsBefore) ReportValidation(config, path, source, issues);
            result[id] = config;
        }
        return result;
    }

    /// <summary>Runs the rules of the config and of every section in it, with their paths under <paramref name="path"/>.</summary>
    internal static void ReportValidation(ComponentConfig config, string path, ConfigSourceMap source, ConfigIssues issues)
    {
        try
        {
            foreach (var error in ConfigValidation.Validate(config))
            {
                var errorPath = error.Path.Length == 0 ? path : KeyPath.Child(path, error.Path);
                issues.Error(errorPath, error.Message, source.Locate(errorPath));
            }
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException or NotSupportedException)
        {
            // A rule that throws (e.g. on a malformed pattern) is still a problem with the value the user wrote.
            issues.Error(path, $"invalid configuration: {e.Message}", source.Locate(path));
        }
    }

    private string UnknownType(ComponentKind kind, string type)
    {
        var known = registry.TypeNames(kind);
        return known.Count == 0
            ? $"unknown {KindName(kind)} type \"{type}\"; no {KindName(kind)} types are registered"
            : $"unknown {KindName(kind)} type \"{type}\"; known {KindName(kind)} types: {string.Join(", ", known)}{Suggestions.DidYouMean(type, known)}";
    }

    private static string KindName(ComponentKind kind) => kind.ToString().ToLowerInvariant();

    private ServiceConfig ReadService(MappingEntry service, ServiceConfig config)
    {
        if (service.Value is ScalarNode { IsNull: true }) return config;
        if (service.Value is not MappingNode mapping)
        {
            issues.Error(ServiceKey, $"expected a mapping of keys {string.Join(", ", ServiceKeys)}, got {service.Value.Describe()}", service.Value.Location);
            return config;
        }
        foreach (var entry in mapping.Entries)
        {
            var path = KeyPath.Child(ServiceKey, entry.Key);
            config = entry.Key switch
            {
                "extensions" => config with
                {
                    ServiceExtensions = (IReadOnlyList<ComponentId>?)_binder.Bind(entry.Value, typeof(List<ComponentId>), null, path) ?? [],
                },
                "pipelines" => config with { Pipelines = ReadPipelines(entry.Value, path) },
                "telemetry" => config with { Telemetry = new TelemetryReader(_binder, issues, registry).Read(entry.Value, path) },
                "shutdown_timeout" => config with { ShutdownTimeout = ReadShutdownTimeout(entry, path) },
                _ => Unknown(entry, path, ServiceKeys, config),
            };
        }
        return config;
    }

    private TimeSpan? ReadShutdownTimeout(MappingEntry entry, string path)
    {
        var budget = (TimeSpan?)_binder.Bind(entry.Value, typeof(TimeSpan), null, path);
        if (budget >= TimeSpan.Zero) return budget;
        if (budget is not null) issues.Error(path, "must not be negative", entry.Value.Location);
        return null;
    }

    private ServiceConfig Unknown(MappingEntry entry, string path, IEnumerable<string> validKeys, ServiceConfig config)
    {
        issues.Error(path, Binder.UnknownKey(entry.Key, validKeys), entry.KeyLocation);
        return config;
    }

    private Dictionary<PipelineId, PipelineConfig> ReadPipelines(ConfigNode node, string path)
    {
        var pipelines = new Dictionary<PipelineId, PipelineConfig>();
        if (node is ScalarNode { IsNull: true }) return pipelines;
        if (node is not MappingNode mapping)
        {
            issues.Error(path, $"expected a mapping of pipeline ids (traces, metrics, logs, optionally /name) to pipelines, got {node.Describe()}", node.Location);
            return pipelines;
        }
        foreach (var entry in mapping.Entries)
        {
            var pipelinePath = KeyPath.Child(path, entry.Key);
            if (!PipelineId.TryParse(entry.Key, out var id))
            {
                var signal = entry.Key.Split('/')[0];
                issues.Error(pipelinePath,
                    $"invalid pipeline id \"{entry.Key}\": expected traces, metrics or logs, optionally followed by /name{Suggestions.DidYouMean(signal, ["traces", "metrics", "logs"])}",
                    entry.KeyLocation);
                continue;
            }
            pipelines[id] = (PipelineConfig)_binder.Bind(entry.Value, typeof(PipelineConfig), new PipelineConfig(), pipelinePath)!;
        }
        return pipelines;
    }
}
