using Microsoft.Extensions.Logging;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Logging;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Engine.Service;

namespace OtelAi.Engine;

/// <summary>How a <see cref="Collector"/> runs besides its config.</summary>
public sealed record CollectorOptions
{
    /// <summary>Where component and service logs go; null: one line per event to stderr at <c>service.telemetry.logs</c>.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>The registry self-metrics are recorded in; null: a new one (see <see cref="Collector.Metrics"/>).</summary>
    public MetricRegistry? Metrics { get; init; }

    /// <summary>Longest time <see cref="Collector.StopAsync"/> waits for components to drain, in total; null: <c>service.shutdown_timeout</c>, else 30 s.</summary>
    public TimeSpan? ShutdownTimeout { get; init; }

    /// <summary>
    /// Whether the self-metrics endpoint opens on its default address (localhost:8888) when the config does not name
    /// one, as otelcol does; a library embedding the collector sets false, so it opens no port it was not asked for.
    /// </summary>
    public bool ServeDefaultSelfMetricsEndpoint { get; init; } = true;
}

/// <summary>A factory could not build a component (the config passed validation but the factory refused it).</summary>
public sealed class ComponentCreateException(string component, Exception inner)
    : Exception($"failed to create {component}: {inner.Message}", inner)
{
    public string Component { get; } = component;
}

/// <summary>A component failed to start; the collector stopped whatever had started.</summary>
public sealed class ComponentStartException(string component, Exception inner)
    : Exception($"failed to start {component}: {inner.Message}", inner)
{
    public string Component { get; } = component;
}

/// <summary>
/// A running otelcol-style service: the component graph of a <see cref="ServiceConfig"/>, its lifecycle and its
/// self-telemetry. Build it from YAML (<see cref="FromYaml"/>), files (<see cref="FromFiles"/>), a typed config
/// (<see cref="FromConfig"/>) or a <see cref="CollectorBuilder"/>; then <see cref="StartAsync"/> and
/// <see cref="StopAsync"/>. Custom component types are factories added to the <see cref="ComponentRegistry"/>.
/// </summary>
public sealed partial class Collector : IAsyncDisposable
{
    private readonly ServiceConfig _config;
    private readonly CollectorOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly bool _ownsLoggerFactory;
    private readonly ILogger _logger;
    private readonly IReadOnlyList<BuiltComponent> _components;
    // State the components share (memory limiters, GPU stores): this collector's alone, dropped when it stops.
    private readonly SharedComponents _shared = new();
    private readonly ServiceHost _host;
    private readonly LiveView? _live;
    private readonly SemaphoreSlim _lifecycle = new(1, 1);
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _startedCount;
    private MetricsEndpoint? _metricsEndpoint;
    private readonly IReadOnlyList<MetricsPusher> _pushers;
    private readonly DateTimeOffset _created = DateTimeOffset.UtcNow;
    private volatile CollectorState _state = CollectorState.Created;
    private DateTimeOffset? _runningSince;
    private Exception? _fatalError;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(ComponentKind, ComponentId), ComponentHealth> _health = new();

    /// <summary>How many error times a component's health keeps (health_check counts those within its interval).</summary>
    private const int RecentErrorsKept = 256;

    private Collector(ServiceConfig config, ComponentRegistry registry, CollectorOptions? options, IReadOnlyList<ConfigIssue>? loadWarnings = null)
    {
        _config = config;
        _options = options ?? new CollectorOptions();
        ShutdownTimeout = _options.ShutdownTimeout ?? config.ShutdownTimeout ?? TimeSpan.FromSeconds(30);
        ComponentRegistry = registry;
        Metrics = _options.Metrics ?? new MetricRegistry();

        var plan = GraphPlan.Create(config, registry);
        Warnings = [.. loadWarnings ?? [], .. plan.Warnings];
        if (_options.LoggerFactory is { } loggerFactory)
        {
            _loggerFactory = loggerFactory;
        }
        else
        {
            _loggerFactory = LoggerFactory.Create(b => b.ClearProviders()
                .SetMinimumLevel(LogLevel.Trace)
                .AddProvider(LineLoggerProvider.FromConfig(config.Telemetry.Logs)));
            _ownsLoggerFactory = true;
        }
        _logger = _loggerFactory.CreateLogger("service");
        foreach (var warning in Warnings) _logger.LogWarning("config: {Warning}", warning);
        try
        {
            // A live page (zpages) reads edge counts, taps and recent warnings: built only when one is configured.
            _live = plan.Extensions.Any(e => e.Factory is Extensions.ZPages.ZPagesExtensionFactory)
                ? new LiveView(plan.FeatureGates.IsEnabled(FeatureGates.NewPipelineTelemetry) ? Metrics : new MetricRegistry())
                : null;
            _components = GraphBuilder.Build(plan, _live is null ? _loggerFactory : _live.Logs.Wrap(_loggerFactory), Metrics, _shared, _live);
        }
        catch (ComponentCreateException)
        {
            DisposeLogging();
            throw;
        }
        _host = new ServiceHost(this);
        try
        {
            _pushers = string.Equals(config.Telemetry.Metrics.Level, "none", StringComparison.OrdinalIgnoreCase)
                ? []
                : [.. config.Telemetry.Metrics.PushReaders.Select((reader, i) => new MetricsPusher(registry, reader, i, _loggerFactory, SelfMetricsSnapshot))];
        }
        catch (Exception ex)
        {
            DisposeLogging();
            throw new ComponentCreateException("service.telemetry.metrics.readers", ex);
        }
    }

    /// <summary>The self-metrics as OTLP, with the service's resource (service.name, service.instance.id, service.version and the configured attributes).</summary>
    private Otlp.Proto.Collector.Metrics.V1.ExportMetricsServiceRequest SelfMetricsSnapshot() =>
        Metrics.ToOtlp(ServiceResource(), _created, DateTimeOffset.UtcNow);

    /// <summary>A collector for a bound config (validated here: throws <see cref="ConfigException"/> listing every graph error).</summary>
    public static Collector FromConfig(ServiceConfig config, ComponentRegistry registry, CollectorOptions? options = null) =>
        new(config, registry, options);

    public ComponentRegistry ComponentRegistry { get; }


    /// <summary>The engine's own metrics (otelcol_* names), served on <c>service.telemetry.metrics.address</c>.</summary>
    public MetricRegistry Metrics { get; }

    /// <summary>Graph warnings (e.g. components configured but unused).</summary>
    public IReadOnlyList<ConfigIssue> Warnings { get; }

    public CollectorState State => _state;

    /// <summary>The last status each component reported (components that reported nothing are not listed).</summary>
    public IReadOnlyCollection<ComponentHealth> ComponentHealth => [.. _health.Values];

    /// <summary>The drain budget of <see cref="StopAsync"/>: the option, else <c>service.shutdown_timeout</c>, else 30 s.</summary>
    public TimeSpan ShutdownTimeout { get; }

    /// <summary>What the last shutdown drained, kept for the next start and dropped; null before one.</summary>
    public ShutdownSummary? LastShutdown { get; private set; }

    /// <summary>Logs why the collector is about to stop (e.g. "SIGTERM") and the drain budget.</summary>
    public void LogStopRequest(string reason) =>
        _logger.LogInformation("Received {Reason}: stopping, draining in-flight data for at most {Budget}s", reason,
            ShutdownTimeout.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The error a component reported through <see cref="IComponentHost.ReportFatalError"/>, which stopped the collector.</summary>
    public Exception? FatalError => Volatile.Read(ref _fatalError);

    /// <summary>Completes once the collector has stopped (after <see cref="StopAsync"/>, a fatal error or a failed start).</summary>
    public Task Completion => _stopped.Task;

    /// <summary>Port of the self-metrics endpoint, or null when <c>service.telemetry.metrics.level</c> is none or not started.</summary>
    public int? MetricsPort => _metricsEndpoint?.Port;

    /// <summary>A started component instance by id (the first, for exporters and connectors built per signal); for tests and embedding.</summary>
    public IComponent? FindComponent(ComponentKind kind, ComponentId id) =>
        _components.FirstOrDefault(c => c.Spec.Kind == kind && c.Spec.Id == id)?.Instance;

    /// <summary>Every instance built for a component id (one per pipeline for processors, per signal for exporters).</summary>
    internal IEnumerable<T> Components<T>(ComponentKind kind, ComponentId id) =>
        _components.Where(c => c.Spec.Kind == kind && c.Spec.Id == id).Select(c => c.Instance).OfType<T>();

    /// <summary>
    /// Starts self-telemetry, then extensions, exporters, connectors and processors (downstream first), receivers last.
    /// When one fails, what started is shut down again and <see cref="ComponentStartException"/> says which failed.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _lifecycle.WaitAsync(cancellationToken);
        try
        {
            if (_state != CollectorState.Created)
                throw new InvalidOperationException($"the collector can start only once (it is {_state})");
            SetState(CollectorState.Starting);
            _logger.LogInformation("Starting {Command} {Version} with {Count} components", BuildInfo.Current.Command, BuildInfo.Current.Version, _components.Count);
            var current = "self-telemetry endpoint";
            try
            {
                if (!string.Equals(_config.Telemetry.Metrics.Level, "none", StringComparison.OrdinalIgnoreCase))
                {
                    ProcessMetrics.Register(Metrics);
                    if (_config.Telemetry.Metrics.Address.Length > 0 && (_config.Telemetry.Metrics.AddressConfigured || _options.ServeDefaultSelfMetricsEndpoint))
                    {
                        var metrics = _config.Telemetry.Metrics;
                        _metricsEndpoint = await MetricsEndpoint.StartAsync(Metrics, metrics.Address, cancellationToken, ServiceLabels(), metrics.Tls);
                        _logger.LogInformation("Serving self-metrics on {Scheme}://{Address}/metrics (port {Port})", metrics.Tls is null ? "http" : "https", metrics.Address, _metricsEndpoint.Port);
                    }
                    current = "self-metrics push reader";
                    foreach (var pusher in _pushers) await pusher.StartAsync(_host, cancellationToken);
                }
                foreach (var component in _components)
                {
                    current = component.Description;
                    _logger.LogDebug("Starting {Component}", component.Description);
                    await component.Instance.StartAsync(_host, cancellationToken);
                    _startedCount++;
                }
            }
            catch (Exception ex)
            {
                var error = new ComponentStartException(current, ex);
                _logger.LogError(ex, "Failed to start {Component}; shutting down what started", current);
                await ShutdownStartedAsync(CancellationToken.None);
                throw error;
            }
            _runningSince = DateTimeOffset.UtcNow;
            SetState(CollectorState.Running);
            _logger.LogInformation("Everything is ready. Begin running and processing data.");
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>
    /// Shuts down in reverse start order: receivers stop accepting, processors flush, exporters drain, extensions stop.
    /// Waits at most <see cref="CollectorOptions.ShutdownTimeout"/> (or until <paramref name="cancellationToken"/>)
    /// in total; a component still busy then is abandoned with a logged error. Throws when a component failed to stop.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        await _lifecycle.WaitAsync(CancellationToken.None);
        try
        {
            if (_state == CollectorState.Stopped) return;
            if (_state == CollectorState.Created)
            {
                SetState(CollectorState.Stopped);
                await _shared.DisposeAsync();
                DisposeLogging();
                _stopped.TrySetResult();
                return;
            }
            var failures = await ShutdownStartedAsync(cancellationToken);
            if (failures.Count > 0)
                throw new AggregateException($"{failures.Count} component(s) failed to shut down cleanly", failures);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        try { await StopAsync(); }
        catch (AggregateException) { /* already logged per component */ }
    }

    private async Task<List<Exception>> ShutdownStartedAsync(CancellationToken cancellationToken)
    {
        SetState(CollectorState.Stopping);
        _logger.LogInformation("Shutdown: stopping {Count} components", _startedCount);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(ShutdownTimeout);
        // Components learn of the budget's end through the token; they get a moment past it to count and log what
        // they drop and to close their files, before a component still busy is abandoned.
        using var abandon = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        abandon.CancelAfter(ShutdownTimeout + CleanupGrace);
        var (sentBefore, droppedBefore) = (ItemsSent(), ItemsDropped());
        var failures = new List<Exception>();
        for (var i = _startedCount - 1; i >= 0; i--)
        {
            var component = _components[i];
            try
            {
                _logger.LogDebug("Stopping {Component}", component.Description);
                // WaitAsync bounds components that ignore the token; they are abandoned after the grace.
                await component.Instance.ShutdownAsync(deadline.Token).WaitAsync(abandon.Token);
            }
            catch (OperationCanceledException) when (abandon.IsCancellationRequested)
            {
                _logger.LogError("{Component} did not finish shutting down within the shutdown timeout ({Timeout})", component.Description, ShutdownTimeout);
                failures.Add(new TimeoutException($"{component.Description} did not shut down in time"));
            }
            catch (Exception ex)
            {
                _logger.LogError(ex, "{Component} failed to shut down", component.Description);
                failures.Add(new InvalidOperationException($"{component.Description} failed to shut down: {ex.Message}", ex));
            }
        }
        _startedCount = 0;
        // Queue gauges still read their queues: what a memory queue held was sent or dropped, so what remains is on disk.
        LastShutdown = new ShutdownSummary((long)(ItemsSent() - sentBefore), (long)Metrics.Sum("otelcol_exporter_queue_size"), (long)(ItemsDropped() - droppedBefore));
        _logger.Log(LastShutdown.Dropped > 0 ? LogLevel.Warning : LogLevel.Information,
            "Shutdown drained {Delivered} items; {Kept} queued requests kept in persistent queues for the next start; {Dropped} items dropped",
            LastShutdown.Delivered, LastShutdown.KeptQueued, LastShutdown.Dropped);
        foreach (var pusher in _pushers)
        {
            try
            {
                await pusher.StopAsync(deadline.Token).WaitAsync(abandon.Token);
            }
            catch (OperationCanceledException)
            {
                _logger.LogWarning("The last self-metrics push did not finish within the shutdown timeout");
            }
        }
        await _shared.DisposeAsync();
        if (_metricsEndpoint is not null)
        {
            await _metricsEndpoint.DisposeAsync();
            _metricsEndpoint = null;
        }
        _runningSince = null;
        SetState(CollectorState.Stopped);
        _logger.LogInformation("Shutdown complete.");
        DisposeLogging();
        _stopped.TrySetResult();
        return failures;
    }

    /// <summary>How long past the shutdown budget components may take to account for what they drop.</summary>
    private static readonly TimeSpan CleanupGrace = TimeSpan.FromSeconds(2);

    private static readonly string[] ServiceAttributes = ["service.instance.id", "service.name", "service.version"];

    /// <summary>service_instance_id, service_name and service_version, as otelcol labels its own metrics (from service.telemetry.resource).</summary>
    private List<(string Key, string Value)> ServiceLabels() =>
        [.. ServiceResource().Where(a => ServiceAttributes.Contains(a.Key)).Select(a => (a.Key.Replace('.', '_'), a.Value))];

    /// <summary>
    /// The service's resource, as otelcol builds it: service.instance.id, service.name and service.version (configured
    /// in service.telemetry.resource or the build's), then the other configured attributes (a null value removes one).
    /// </summary>
    private List<(string Key, string Value)> ServiceResource()
    {
        var resource = _config.Telemetry.Resource;
        var attributes = new List<(string Key, string Value)>();
        foreach (var (attribute, fallback) in ServiceAttributes.Zip([_instanceId, BuildInfo.Current.Command, BuildInfo.Current.Version]))
        {
            var value = resource.TryGetValue(attribute, out var configured) ? configured : fallback;
            if (value is not null) attributes.Add((attribute, value));
        }
        foreach (var (key, value) in resource)
            if (!ServiceAttributes.Contains(key) && value is not null) attributes.Add((key, value));
        return attributes;
    }

    private readonly string _instanceId = Guid.NewGuid().ToString();

    private static readonly string[] ItemKinds = ["spans", "metric_points", "log_records"];

    private double ItemsSent() => ItemKinds.Sum(kind => Metrics.Sum($"otelcol_exporter_sent_{kind}"));

    private double ItemsDropped() => ItemKinds.Sum(kind => Metrics.Sum($"otelcol_exporter_send_failed_{kind}") + Metrics.Sum($"otelcol_exporter_enqueue_failed_{kind}"));

    private void DisposeLogging()
    {
        if (_ownsLoggerFactory) _loggerFactory.Dispose();
    }

    private void SetState(CollectorState state) => _state = state;

    private void OnStatus(ComponentStatusEvent status)
    {
        var now = DateTimeOffset.UtcNow;
        var error = status.Status == ComponentStatus.RecoverableError;
        _health.AddOrUpdate((status.Kind, status.Id),
            _ => new ComponentHealth(status.Kind, status.Id, status.Status, status.Message, now, error ? [now] : []),
            (_, previous) => new ComponentHealth(status.Kind, status.Id, status.Status, status.Message,
                previous.Status == status.Status ? previous.Since : now,
                error ? [.. previous.RecentErrors.TakeLast(RecentErrorsKept - 1), now] : previous.RecentErrors));
    }

    private void OnFatalError(ComponentId source, Exception error)
    {
        if (Interlocked.CompareExchange(ref _fatalError, error, null) is not null) return;
        _logger.LogError(error, "Fatal error reported by {Component}; shutting down", source);
        _ = Task.Run(async () =>
        {
            try { await StopAsync(CancellationToken.None); }
            catch (Exception ex) { _logger.LogError(ex, "Shutdown after fatal error failed"); }
        });
    }

    /// <summary>What components see of the service: started extensions, fatal-error reporting and the state.</summary>
    private sealed class ServiceHost(Collector collector) : IComponentHost, ICollectorStatus, ILiveCollector
    {
        public LiveView? Live => collector._live;

        public MetricRegistry Metrics => collector.Metrics;

        public ComponentRegistry Registry => collector.ComponentRegistry;

        public IReadOnlyList<BuiltComponent> Components => collector._components;

        public CollectorState State => collector._state;

        public DateTimeOffset? RunningSince => collector._state == CollectorState.Running ? collector._runningSince : null;

        public IComponent? GetExtension(ComponentId id)
        {
            for (var i = 0; i < collector._startedCount && i < collector._components.Count; i++)
            {
                var component = collector._components[i];
                if (component.Spec.Kind == ComponentKind.Extension && component.Spec.Id == id) return component.Instance;
            }
            return null;
        }

        public void ReportFatalError(ComponentId source, Exception error) => collector.OnFatalError(source, error);

        public void ReportStatus(ComponentStatusEvent status) => collector.OnStatus(status);

        public IReadOnlyCollection<ComponentHealth> ComponentHealth => collector.ComponentHealth;

        public ServiceConfig Config => collector._config;
    }
}
