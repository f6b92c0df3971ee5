using System.Text;
using Google.Protobuf;
using Google.Protobuf.Collections;
using Microsoft.Extensions.Logging;
using OtelAi.Engine.Components;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Exporters.Otlp;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Logs.V1;
using OtelAi.Otlp.Proto.Metrics.V1;
using OtelAi.Otlp.Proto.Resource.V1;
using OtelAi.Otlp.Proto.Trace.V1;

namespace OtelAi.Exporters.LoadBalancing;

/// <summary>otelcol-contrib's loadbalancing exporter, as <c>load_balancing</c> (and <c>loadbalancing</c>).</summary>
public sealed class LoadBalancingExporterFactory : ExporterFactory<LoadBalancingExporterConfig>
{
    internal static readonly SelfMetric NumResolutions = SelfMetric.Counter("otelcol_loadbalancer_num_resolutions",
        "Number of times the resolver has triggered new resolutions.", "exporter", "resolver", "success");
    internal static readonly SelfMetric NumBackends = SelfMetric.Gauge("otelcol_loadbalancer_num_backends",
        "Current number of backends in use.", "exporter", "resolver");
    internal static readonly SelfMetric BackendOutcome = SelfMetric.Counter("otelcol_loadbalancer_backend_outcome",
        "Number of successes and failures for each endpoint.", "exporter", "endpoint", "success");

    public override string Type => "load_balancing";

    public override IReadOnlyList<string> Aliases { get; } = ["loadbalancing"];

    public override IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; } = AllSignals(StabilityLevel.Beta);

    protected override IEnumerable<SelfMetric> OwnSelfMetrics => [NumResolutions, NumBackends, BackendOutcome];

    protected override IExporter<T> Create<T>(ComponentCreateSettings settings, LoadBalancingExporterConfig config) =>
        new LoadBalancingExporter<T>(settings, config, new OtlpExporterFactory());
}

/// <summary>
/// Splits each request by routing key over a consistent-hash ring of backends, each an otlp exporter with its own
/// queue and retries. When the resolver changes the set, new backends start before the ring switches to them, and
/// removed ones drain their queues while data already moves to the new owners.
/// </summary>
internal sealed class LoadBalancingExporter<T> : IExporter<T> where T : class, IMessage<T>, new()
{
    private readonly ComponentCreateSettings _settings;
    private readonly LoadBalancingExporterConfig _config;
    private readonly OtlpExporterFactory _otlp;
    private readonly IBackendResolver _resolver;
    private readonly SemaphoreSlim _changing = new(1, 1);
    private readonly string _resolverName;
    private volatile Backends _backends = new(new HashRing([]), new Dictionary<string, Backend>());
    private IComponentHost? _host;
    private readonly List<Task> _draining = [];
    private int _stopped;

    private sealed record Backends(HashRing Ring, IReadOnlyDictionary<string, Backend> Exporters);

    /// <summary>One backend's exporter and its outcome counters (looked up once, not per request).</summary>
    private sealed record Backend(IExporter<T> Exporter, Counter Succeeded, Counter Failed);

    public LoadBalancingExporter(ComponentCreateSettings settings, LoadBalancingExporterConfig config, OtlpExporterFactory otlp)
    {
        _settings = settings;
        _config = config;
        _otlp = otlp;
        var id = ("exporter", settings.Id.ToString());
        _resolverName = config.Resolver.Dns is not null ? "dns" : config.Resolver.K8s is not null ? "k8s" : "static";
        Counter Resolutions(string success) => settings.Metrics.Counter(LoadBalancingExporterFactory.NumResolutions, id, ("resolver", _resolverName), ("success", success));
        _resolver = config.Resolver switch
        {
            { Dns: { } dns } => new DnsResolver(dns, settings.Logger, Resolutions("true"), Resolutions("false")),
            { K8s: { } k8s } => new K8sResolver(k8s, settings.Logger, Resolutions("true"), Resolutions("false")),
            _ => new StaticResolver(config.Resolver.Static!),
        };
        settings.Metrics.Gauge(LoadBalancingExporterFactory.NumBackends, () => _backends.Ring.Backends.Count, id, ("resolver", _resolverName));
    }

    /// <summary>Reads the routing key of every item; the backends' queues keep the (split) requests.</summary>
    public ConsumerCapabilities Capabilities => ConsumerCapabilities.Retains;

    public async Task StartAsync(IComponentHost host, CancellationToken cancellationToken)
    {
        _host = host;
        await _resolver.StartAsync(ChangeBackendsAsync, cancellationToken);
    }

    private async Task ChangeBackendsAsync(IReadOnlyList<string> endpoints)
    {
        await _changing.WaitAsync();
        try
        {
            var current = _backends;
            var exporters = new Dictionary<string, Backend>();
            foreach (var endpoint in endpoints)
            {
                if (current.Exporters.TryGetValue(endpoint, out var known))
                {
                    exporters[endpoint] = known;
                    continue;
                }
                var exporter = _otlp.CreateExporter<T>(_settings with { Id = new ComponentId(_settings.Id.Type, BackendName(endpoint)) }, _config.Protocol.Otlp.For(endpoint));
                await exporter.StartAsync(_host!, CancellationToken.None);
                var labels = new[] { ("exporter", _settings.Id.ToString()), ("endpoint", endpoint) };
                exporters[endpoint] = new Backend(exporter,
                    _settings.Metrics.Counter(LoadBalancingExporterFactory.BackendOutcome, [.. labels, ("success", "true")]),
                    _settings.Metrics.Counter(LoadBalancingExporterFactory.BackendOutcome, [.. labels, ("success", "false")]));
            }
            _backends = new Backends(new HashRing(endpoints), exporters);
            var removed = current.Exporters.Where(e => !exporters.ContainsKey(e.Key)).ToList();
            _settings.Logger.LogInformation("load_balancing: {Count} backends ({Added} added, {Removed} removed)",
                exporters.Count, exporters.Keys.Count(e => !current.Exporters.ContainsKey(e)), removed.Count);
            // A removed backend drains what it queued (it may still be reachable) while new data goes to the new owners;
            // shutdown waits for the drains.
            foreach (var (_, backend) in removed)
                lock (_draining) _draining.Add(DrainAsync(backend.Exporter));
        }
        finally
        {
            _changing.Release();
        }
    }

    private static async Task DrainAsync(IExporter<T> exporter)
    {
        using var budget = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await exporter.ShutdownAsync(budget.Token);
    }

    private string BackendName(string endpoint) => (_settings.Id.Name.Length > 0 ? _settings.Id.Name + "_" : "") + endpoint;

    public async ValueTask ConsumeAsync(Payload<T> data, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _stopped) != 0) throw new RetryableDataException($"exporter {_settings.Id} is shut down");
        var backends = _backends;
        if (backends.Ring.Backends.Count == 0) throw new RetryableDataException($"exporter {_settings.Id}: no backend resolved yet");
        var parts = Split(data.Message, backends.Ring);
        var sends = parts.Select(part => SendAsync(backends.Exporters[part.Key], part.Value, cancellationToken)).ToList();
        var errors = new List<Exception>();
        foreach (var send in sends)
        {
            try { await send; }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested) { errors.Add(ex); }
        }
        if (errors.Count == 1) throw errors[0];
        if (errors.Count > 1)
            throw errors.All(e => e is PermanentDataException)
                ? new PermanentDataException(string.Join("; ", errors.Select(e => e.Message)))
                : new RetryableDataException(string.Join("; ", errors.Select(e => e.Message)));
    }

    private static async Task SendAsync(Backend backend, T part, CancellationToken cancellationToken)
    {
        try
        {
            await backend.Exporter.ConsumeAsync(part, cancellationToken);
            backend.Succeeded.Add(1);
        }
        catch
        {
            backend.Failed.Add(1);
            throw;
        }
    }

    public async Task ShutdownAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0) return;
        await _resolver.DisposeAsync();
        Task[] draining;
        lock (_draining) draining = [.. _draining];
        await Task.WhenAll([.. _backends.Exporters.Values.Select(b => b.Exporter.ShutdownAsync(cancellationToken)), .. draining]);
    }

    /// <summary>The request cut into one request per backend, each keeping the resource and scope of its items.</summary>
    private Dictionary<string, T> Split(T request, HashRing ring) => request switch
    {
        ExportTraceServiceRequest traces => Cast(RequestSplitter.Split(traces.ResourceSpans, r => r.ScopeSpans, s => s.Spans,
            r => new ResourceSpans { Resource = r.Resource, SchemaUrl = r.SchemaUrl }, s => new ScopeSpans { Scope = s.Scope, SchemaUrl = s.SchemaUrl },
            r => TraceOwners<Span>(r.Resource, ring, span => span.TraceId, span => span.Attributes),
            () => new ExportTraceServiceRequest(), (req, r) => req.ResourceSpans.Add(r))),
        ExportLogsServiceRequest logs => Cast(RequestSplitter.Split(logs.ResourceLogs, r => r.ScopeLogs, s => s.LogRecords,
            r => new ResourceLogs { Resource = r.Resource, SchemaUrl = r.SchemaUrl }, s => new ScopeLogs { Scope = s.Scope, SchemaUrl = s.SchemaUrl },
            r => TraceOwners<LogRecord>(r.Resource, ring, record => record.TraceId, record => record.Attributes),
            () => new ExportLogsServiceRequest(), (req, r) => req.ResourceLogs.Add(r))),
        ExportMetricsServiceRequest metrics => Cast(RequestSplitter.Split(metrics.ResourceMetrics, r => r.ScopeMetrics, s => s.Metrics,
            r => new ResourceMetrics { Resource = r.Resource, SchemaUrl = r.SchemaUrl }, s => new ScopeMetrics { Scope = s.Scope, SchemaUrl = s.SchemaUrl },
            r => MetricOwners(r.Resource, ring),
            () => new ExportMetricsServiceRequest(), (req, r) => req.ResourceMetrics.Add(r))),
        _ => throw new NotSupportedException(typeof(T).Name),
    };

    private static Dictionary<string, T> Cast<TRequest>(Dictionary<string, TRequest> parts) =>
        parts.ToDictionary(p => p.Key, p => (T)(object)p.Value!);

    /// <summary>
    /// The owner of each span or log record of one resource: by trace id (hashed in place; records without one go by
    /// service), or by the configured key. Keys of the resource alone are hashed once per resource, not per item.
    /// </summary>
    private Func<TItem, string> TraceOwners<TItem>(Resource? resource, HashRing ring, Func<TItem, ByteString> traceIdOf, Func<TItem, RepeatedField<KeyValue>> attributesOf)
    {
        switch (_config.RoutingKey)
        {
            case "traceID":
                string? byService = null;
                return item => traceIdOf(item) is { IsEmpty: false } traceId ? ring.Owner(traceId.Span)! : byService ??= ring.Owner(Service(resource))!;
            case "service":
                return Fixed<TItem>(ring.Owner(Service(resource))!);
            case "resource":
                return Fixed<TItem>(ring.Owner(ResourceText(resource))!);
            default:
                return item => ring.Owner(AttributesKey(resource, attributesOf(item)))!;
        }
    }

    /// <summary>The owner of each metric of one resource: by service (also for traceID, which metrics lack), resource, resource and metric name, or routing attributes.</summary>
    private Func<Metric, string> MetricOwners(Resource? resource, HashRing ring)
    {
        switch (_config.RoutingKey)
        {
            case "resource":
                return Fixed<Metric>(ring.Owner(ResourceText(resource))!);
            case "metric":
                var prefix = ResourceText(resource);
                return metric => ring.Owner([.. prefix, 0, .. Encoding.UTF8.GetBytes(metric.Name)])!;
            case "attributes":
                return Fixed<Metric>(ring.Owner(AttributesKey(resource, null))!);
            default:
                return Fixed<Metric>(ring.Owner(Service(resource))!);
        }
    }

    private static Func<TItem, string> Fixed<TItem>(string owner) => _ => owner;

    private static byte[] Service(Resource? resource) => Encoding.UTF8.GetBytes(resource?.Attributes.Get("service.name")?.StringValue ?? "");

    private static byte[] ResourceText(Resource? resource) => Encoding.UTF8.GetBytes(string.Join('\u0000',
        (resource?.Attributes ?? []).OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"{a.Key}={a.Value}")));

    /// <summary>routing_attributes' values, each from the resource if it has it, else from the item.</summary>
    private byte[] AttributesKey(Resource? resource, RepeatedField<KeyValue>? attributes) => Encoding.UTF8.GetBytes(string.Join('\u0000',
        _config.RoutingAttributes.Select(name => (resource?.Attributes.Get(name) ?? attributes?.Get(name))?.ToString() ?? "")));
}

/// <summary>Cuts a request into one request per ring owner, keeping each item's resource and scope (shared, not copied).</summary>
internal static class RequestSplitter
{
    public static Dictionary<string, TRequest> Split<TRequest, TResource, TScope, TItem>(
        RepeatedField<TResource> resources, Func<TResource, RepeatedField<TScope>> scopesOf, Func<TScope, RepeatedField<TItem>> itemsOf,
        Func<TResource, TResource> resourceHeader, Func<TScope, TScope> scopeHeader,
        Func<TResource, Func<TItem, string>> ownersOf, Func<TRequest> newRequest, Action<TRequest, TResource> addResource)
    {
        var parts = new Dictionary<string, TRequest>(StringComparer.Ordinal);
        foreach (var resource in resources)
        {
            var ownerOf = ownersOf(resource);
            var resourceParts = new Dictionary<string, TResource>(StringComparer.Ordinal);
            foreach (var scope in scopesOf(resource))
            {
                var scopeParts = new Dictionary<string, TScope>(StringComparer.Ordinal);
                foreach (var item in itemsOf(scope))
                {
                    var owner = ownerOf(item);
                    if (!scopeParts.TryGetValue(owner, out var scopePart))
                    {
                        if (!resourceParts.TryGetValue(owner, out var resourcePart))
                        {
                            resourceParts[owner] = resourcePart = resourceHeader(resource);
                            if (!parts.TryGetValue(owner, out var request)) parts[owner] = request = newRequest();
                            addResource(request, resourcePart);
                        }
                        scopeParts[owner] = scopePart = scopeHeader(scope);
                        scopesOf(resourcePart).Add(scopePart);
                    }
                    itemsOf(scopePart).Add(item);
                }
            }
        }
        return parts;
    }
}
