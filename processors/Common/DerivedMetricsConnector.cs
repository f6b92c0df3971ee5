using System.Text;
using Google.Protobuf.Collections;
using Microsoft.Extensions.Logging;
using OtelAi.Engine.Components;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Metrics.V1;
using OtelAi.Otlp.Proto.Resource.V1;
using OtelAi.Otlp.Proto.Trace.V1;

namespace OtelAi.Processors.Common;

/// <summary>How a traces → metrics connector aggregates, flushes and forgets (the spanmetrics keys both connectors share).</summary>
internal sealed record DerivedMetricsOptions
{
    public required string ScopeName { get; init; }
    public required TimeSpan FlushInterval { get; init; }
    public bool Delta { get; init; }
    public int ResourceCacheSize { get; init; } = 1000;
    public IReadOnlyList<string> ResourceKeyAttributes { get; init; } = [];
    public bool AddResourceAttributes { get; init; }
    public TimeSpan ResourceExpiration { get; init; }
    public TimeSpan SeriesExpiration { get; init; }
    public int CardinalityLimit { get; init; }
    public IReadOnlyList<string> IncludeScopes { get; init; } = [];
}

/// <summary>
/// What spanmetrics and genai_metrics share: spans are folded, one lock per request, into per-resource tables of
/// series (<see cref="MetricSeriesTable"/>); every flush interval and at shutdown the tables go to the metrics
/// pipelines as one request, cumulative (totals since a series began) or delta (since the last flush, then
/// cleared). Resources are bounded (the least recently seen is dropped) and, like series, expire when configured.
/// A refusal downstream is logged and counted; cumulative totals go out again at the next flush.
/// </summary>
internal abstract class DerivedMetricsConnector : IExporter<ExportTraceServiceRequest>
{
    /// <summary>The resource attributes kept by default: what Prometheus turns into job and instance.</summary>
    private static readonly string[] ServiceIdentity = ["service.name", "service.namespace", "service.instance.id"];

    private readonly DerivedMetricsOptions _options;
    private readonly ITelemetryConsumer<ExportMetricsServiceRequest> _next;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, ResourceTables> _resources = new(StringComparer.Ordinal);
    private readonly Counter _flushFailures;
    private readonly CancellationTokenSource _stopping = new();
    private Task? _flushLoop;

    protected DerivedMetricsConnector(ComponentCreateSettings settings, DerivedMetricsOptions options, ITelemetryConsumer<ExportMetricsServiceRequest> next,
        SelfMetric flushFailures, TimeProvider? time)
    {
        Settings = settings;
        _options = options;
        _next = next;
        Time = time ?? TimeProvider.System;
        _flushFailures = settings.Metrics.Counter(flushFailures, ("connector", settings.Id.ToString()));
        LastFlushUnixNano = NowUnixNano();
    }

    protected ComponentCreateSettings Settings { get; }

    protected TimeProvider Time { get; }

    /// <summary>When the last flush happened: the start time of delta series.</summary>
    protected ulong LastFlushUnixNano { get; private set; }

    /// <summary>Reads the spans during the call and keeps only aggregates.</summary>
    public ConsumerCapabilities Capabilities => ConsumerCapabilities.ReadOnly;

    /// <summary>The series tables of one resource, by metric.</summary>
    protected sealed class ResourceTables(RepeatedField<KeyValue> attributes, int cardinalityLimit)
    {
        private readonly Dictionary<string, MetricSeriesTable> _tables = new(StringComparer.Ordinal);

        public RepeatedField<KeyValue> Attributes { get; } = attributes;

        public long LastSeen { get; set; }

        public MetricSeriesTable this[string metric] =>
            _tables.TryGetValue(metric, out var table) ? table : _tables[metric] = new MetricSeriesTable(cardinalityLimit);

        public IEnumerable<MetricSeriesTable> All => _tables.Values;
    }

    /// <summary>Folds one span into the tables of its resource.</summary>
    protected abstract void Aggregate(ResourceTables tables, Resource? resource, Span span, long nowTicks);

    /// <summary>Writes the metrics of one resource's tables into <paramref name="scope"/>.</summary>
    protected abstract void Emit(ResourceTables tables, ScopeMetrics scope, AggregationTemporality temporality, ulong nowUnixNano);

    /// <summary>The start time of a new series: the last flush for delta, now for cumulative.</summary>
    protected ulong SeriesStart => _options.Delta ? LastFlushUnixNano : NowUnixNano();

    protected ulong NowUnixNano() => (ulong)(Time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * 100;

    public Task StartAsync(IComponentHost host, CancellationToken cancellationToken)
    {
        _flushLoop = FlushLoopAsync(_stopping.Token);
        return Task.CompletedTask;
    }

    public async Task ShutdownAsync(CancellationToken cancellationToken)
    {
        if (_stopping.IsCancellationRequested) return;
        await _stopping.CancelAsync();
        if (_flushLoop is not null) await _flushLoop;
        await FlushAsync(cancellationToken); // what was aggregated since the last tick
    }

    private async Task FlushLoopAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(_options.FlushInterval, Time);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping)) await FlushAsync(stopping);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    public ValueTask ConsumeAsync(Payload<ExportTraceServiceRequest> data, CancellationToken cancellationToken)
    {
        if (_stopping.IsCancellationRequested) throw new RetryableDataException($"connector {Settings.Id} is shut down");
        var now = Time.GetTimestamp();
        lock (_lock)
        {
            foreach (var resourceSpans in data.Message.ResourceSpans)
            {
                var tables = Tables(resourceSpans.Resource ?? new Resource(), now);
                foreach (var scopeSpans in resourceSpans.ScopeSpans)
                {
                    if (_options.IncludeScopes.Count > 0 && !_options.IncludeScopes.Contains(scopeSpans.Scope?.Name ?? "")) continue;
                    foreach (var span in scopeSpans.Spans) Aggregate(tables, resourceSpans.Resource, span, now);
                }
            }
        }
        return ValueTask.CompletedTask;
    }

    private ResourceTables Tables(Resource resource, long now)
    {
        var key = ResourceKey(resource.Attributes);
        if (!_resources.TryGetValue(key, out var tables))
        {
            if (_resources.Count >= _options.ResourceCacheSize) _resources.Remove(_resources.MinBy(pair => pair.Value.LastSeen).Key);
            var attributes = new RepeatedField<KeyValue>();
            if (_options.AddResourceAttributes) attributes.Add(resource.Attributes.Select(a => a.Clone()));
            else
                foreach (var identity in ServiceIdentity)
                    if (resource.Attributes.Get(identity) is { } value) attributes.Add(new KeyValue { Key = identity, Value = value.Clone() });
            _resources[key] = tables = new ResourceTables(attributes, _options.CardinalityLimit);
        }
        tables.LastSeen = now;
        return tables;
    }

    private string ResourceKey(RepeatedField<KeyValue> attributes)
    {
        var selected = _options.ResourceKeyAttributes.Count > 0 ? attributes.Where(a => _options.ResourceKeyAttributes.Contains(a.Key)) : attributes;
        var key = new StringBuilder();
        foreach (var attribute in selected.OrderBy(a => a.Key, StringComparer.Ordinal))
            key.Append(attribute.Key).Append('\u0000').Append(attribute.Value.AsString()).Append('\u0001');
        return key.ToString();
    }

    /// <summary>Emits the aggregates (and, for delta, starts them over); a refusal downstream is logged and counted.</summary>
    internal async Task FlushAsync(CancellationToken cancellationToken)
    {
        ExportMetricsServiceRequest request;
        lock (_lock) request = Collect();
        if (request.ResourceMetrics.Count == 0) return;
        try
        {
            await _next.ConsumeAsync(request, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _flushFailures.Add(1);
            Settings.Logger.LogWarning("connector {Connector}: the metrics pipeline refused the derived metrics: {Error}", Settings.Id, ex.Message);
        }
    }

    private ExportMetricsServiceRequest Collect()
    {
        var now = NowUnixNano();
        var nowTicks = Time.GetTimestamp();
        var temporality = _options.Delta ? AggregationTemporality.Delta : AggregationTemporality.Cumulative;
        var request = new ExportMetricsServiceRequest();
        foreach (var (key, tables) in _resources.ToList())
        {
            if (_options.ResourceExpiration > TimeSpan.Zero && Time.GetElapsedTime(tables.LastSeen, nowTicks) > _options.ResourceExpiration)
            {
                _resources.Remove(key);
                continue;
            }
            if (_options.SeriesExpiration > TimeSpan.Zero)
            {
                var cutoff = nowTicks - (long)(_options.SeriesExpiration.TotalSeconds * Time.TimestampFrequency);
                foreach (var table in tables.All) table.RemoveOlderThan(cutoff);
            }
            var scope = new ScopeMetrics { Scope = new InstrumentationScope { Name = _options.ScopeName } };
            Emit(tables, scope, temporality, now);
            if (_options.Delta)
                foreach (var table in tables.All) table.Clear();
            if (scope.Metrics.Count == 0) continue;
            var resourceMetrics = new ResourceMetrics { Resource = new Resource() };
            resourceMetrics.Resource.Attributes.Add(tables.Attributes.Select(a => a.Clone()));
            resourceMetrics.ScopeMetrics.Add(scope);
            request.ResourceMetrics.Add(resourceMetrics);
        }
        LastFlushUnixNano = now;
        return request;
    }
}
