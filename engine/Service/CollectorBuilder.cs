using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Otlp;

namespace OtelAi.Engine;

/// <summary>
/// Builds a <see cref="Collector"/> in code, the same graph a YAML config describes:
/// <code>
/// await using var collector = new CollectorBuilder(registry)
///     .AddReceiver("otlp")
///     .AddProcessor("batch", new BatchConfig { Timeout = TimeSpan.FromSeconds(1) })
///     .AddExporter("debug")
///     .AddPipeline("traces", receivers: ["otlp"], processors: ["batch"], exporters: ["debug"])
///     .Build();
/// </code>
/// A component added without a config gets its factory's defaults.
/// </summary>
public sealed class CollectorBuilder(ComponentRegistry registry)
{
    private readonly Dictionary<ComponentId, ComponentConfig> _receivers = new();
    private readonly Dictionary<ComponentId, ComponentConfig> _processors = new();
    private readonly Dictionary<ComponentId, ComponentConfig> _exporters = new();
    private readonly Dictionary<ComponentId, ComponentConfig> _connectors = new();
    private readonly Dictionary<ComponentId, ComponentConfig> _extensions = new();
    private readonly List<ComponentId> _serviceExtensions = [];
    private readonly Dictionary<PipelineId, PipelineConfig> _pipelines = new();
    private TelemetryConfig _telemetry = new();

    public CollectorBuilder AddReceiver(string id, ComponentConfig? config = null) => Add(_receivers, ComponentKind.Receiver, id, config);

    public CollectorBuilder AddProcessor(string id, ComponentConfig? config = null) => Add(_processors, ComponentKind.Processor, id, config);

    public CollectorBuilder AddExporter(string id, ComponentConfig? config = null) => Add(_exporters, ComponentKind.Exporter, id, config);

    public CollectorBuilder AddConnector(string id, ComponentConfig? config = null) => Add(_connectors, ComponentKind.Connector, id, config);

    /// <summary>Adds an extension and lists it in <c>service.extensions</c> (start order = call order).</summary>
    public CollectorBuilder AddExtension(string id, ComponentConfig? config = null)
    {
        Add(_extensions, ComponentKind.Extension, id, config);
        _serviceExtensions.Add(ComponentId.Parse(id));
        return this;
    }

    /// <summary>Adds pipeline <paramref name="id"/> (<c>traces</c>, <c>metrics/name</c>, ...) over component ids added before or after.</summary>
    public CollectorBuilder AddPipeline(string id, IEnumerable<string> receivers, IEnumerable<string>? processors = null, IEnumerable<string>? exporters = null)
    {
        if (!PipelineId.TryParse(id, out var pipelineId))
            throw new ArgumentException($"invalid pipeline id \"{id}\": expected traces, metrics or logs, optionally followed by /name", nameof(id));
        if (!_pipelines.TryAdd(pipelineId, new PipelineConfig
            {
                Receivers = receivers.Select(ComponentId.Parse).ToList(),
                Processors = (processors ?? []).Select(ComponentId.Parse).ToList(),
                Exporters = (exporters ?? []).Select(ComponentId.Parse).ToList(),
            }))
            throw new ArgumentException($"pipeline \"{id}\" is already defined", nameof(id));
        return this;
    }

    /// <summary>Sets <c>service.telemetry</c> (log level and encoding, self-metrics level and address).</summary>
    public CollectorBuilder WithTelemetry(TelemetryConfig telemetry)
    {
        _telemetry = telemetry;
        return this;
    }

    public ServiceConfig BuildConfig() => new()
    {
        Receivers = new Dictionary<ComponentId, ComponentConfig>(_receivers),
        Processors = new Dictionary<ComponentId, ComponentConfig>(_processors),
        Exporters = new Dictionary<ComponentId, ComponentConfig>(_exporters),
        Connectors = new Dictionary<ComponentId, ComponentConfig>(_connectors),
        Extensions = new Dictionary<ComponentId, ComponentConfig>(_extensions),
        ServiceExtensions = _serviceExtensions.ToList(),
        Pipelines = new Dictionary<PipelineId, PipelineConfig>(_pipelines),
        Telemetry = _telemetry,
    };

    /// <summary>Validates the graph and builds the collector (not started); throws <see cref="ConfigException"/> listing every error.</summary>
    public Collector Build(CollectorOptions? options = null) => Collector.FromConfig(BuildConfig(), registry, options);

    private CollectorBuilder Add(Dictionary<ComponentId, ComponentConfig> section, ComponentKind kind, string id, ComponentConfig? config)
    {
        var componentId = ComponentId.Parse(id);
        if (config is null)
        {
            if (!registry.TryGet(kind, componentId.Type, out var factory))
                throw new ArgumentException($"unknown {kind.ToString().ToLowerInvariant()} type \"{componentId.Type}\"; known types: " +
                    string.Join(", ", registry.TypeNames(kind)), nameof(id));
            config = factory.CreateDefaultConfig();
        }
        if (!section.TryAdd(componentId, config))
            throw new ArgumentException($"{kind.ToString().ToLowerInvariant()} \"{id}\" is already added", nameof(id));
        return this;
    }
}
