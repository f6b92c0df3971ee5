using System.Globalization;
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
using OtelAi.Processors.Common;

namespace OtelAi.Processors.SpanMetrics;

/// <summary>
/// otelcol's spanmetrics connector: every span adds to a calls counter and a duration histogram (and each span
/// event to an events counter) keyed by resource and dimensions; the aggregates go to the metrics pipelines every
/// metrics_flush_interval and at shutdown, cumulative (totals since the series began) or delta (since the last
/// flush). Spans that carry a consistent-probability sampling threshold (tracestate <c>ot=th:…</c>) count as the
/// number of spans they stand for. Aggregation takes one lock per request, not per span.
/// </summary>
internal sealed class SpanMetricsConnector : IExporter<ExportTraceServiceRequest>
{
    private const string ScopeName = "spanmetricsconnector";
    private const string OverflowAttribute = "otel.metric.overflow";

    /// <summary>The resource attributes kept by default: what Prometheus turns into job and instance.</summary>
    private static readonly string[] ServiceIdentity = ["service.name", "service.namespace", "service.instance.id"];
    private static readonly double[] DefaultBucketsMs = [2, 4, 6, 8, 10, 50, 100, 200, 400, 800, 1000, 1400, 2000, 5000, 10_000, 15_000];

    private readonly ComponentCreateSettings _settings;
    private readonly SpanMetricsConfig _config;
    private readonly ITelemetryConsumer<ExportMetricsServiceRequest> _next;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, ResourceAggregate> _resources = new(StringComparer.Ordinal);
    private readonly string[] _defaultDimensions;
    private readonly double[] _bounds;
    private readonly double _unitDivisor;
    private readonly string _unit;
    private readonly Counter _flushFailures;
    private readonly CancellationTokenSource _stopping = new();
    private Task? _flushLoop;
    private ulong _lastFlushUnixNano;

    public SpanMetricsConnector(ComponentCreateSettings settings, SpanMetricsConfig config, ITelemetryConsumer<ExportMetricsServiceRequest> next, TimeProvider? time = null)
    {
        _settings = settings;
        _config = config;
        _next = next;
        _time = time ?? TimeProvider.System;
        _defaultDimensions = [.. SpanMetricsConfig.DefaultDimensions.Where(d => !config.ExcludeDimensions.Contains(d))];
        var seconds = config.Histogram.Unit == HistogramUnit.Seconds;
        _unitDivisor = seconds ? 1e9 : 1e6;
        _unit = seconds ? "s" : "ms";
        _bounds = config.Histogram.Explicit is { Buckets.Count: > 0 } explicitConfig
            ? [.. explicitConfig.Buckets.Select(b => seconds ? b.TotalSeconds : b.TotalMilliseconds)]
            : [.. DefaultBucketsMs.Select(ms => seconds ? ms / 1000 : ms)];
        _flushFailures = settings.Metrics.Counter(SpanMetricsConnectorFactory.FlushFailures, ("connector", settings.Id.ToString()));
        _lastFlushUnixNano = NowUnixNano();
    }

    /// <summary>Reads the spans during the call and keeps only aggregates.</summary>
    public ConsumerCapabilities Capabilities => ConsumerCapabilities.ReadOnly;

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
        using var timer = new PeriodicTimer(_config.MetricsFlushInterval, _time);
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
        if (_stopping.IsCancellationRequested) throw new RetryableDataException($"connector {_settings.Id} is shut down");
        var now = _time.GetTimestamp();
        lock (_lock)
        {
            foreach (var resourceSpans in data.Message.ResourceSpans)
            {
                var resource = Resource(resourceSpans.Resource ?? new Resource(), now);
                foreach (var scopeSpans in resourceSpans.ScopeSpans)
                {
                    if (_config.IncludeInstrumentationScope.Count > 0 && !_config.IncludeInstrumentationScope.Contains(scopeSpans.Scope?.Name ?? "")) continue;
                    foreach (var span in scopeSpans.Spans) Aggregate(resource, resourceSpans.Resource, span, now);
                }
            }
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>Everything kept for one resource: its series of each metric.</summary>
    private sealed class ResourceAggregate(RepeatedField<KeyValue> attributes)
    {
        public readonly RepeatedField<KeyValue> Attributes = attributes;
        public readonly Dictionary<string, Series> Calls = new(StringComparer.Ordinal);
        public readonly Dictionary<string, Series> Durations = new(StringComparer.Ordinal);
        public readonly Dictionary<string, Series> Events = new(StringComparer.Ordinal);
        public long LastSeen;
    }

    private sealed class Series(KeyValue[] attributes, ulong startUnixNano)
    {
        public readonly KeyValue[] Attributes = attributes;
        public ulong StartUnixNano = startUnixNano;
        public double Count;
        public DurationHistogram? Histogram;
        public readonly List<Exemplar> Exemplars = [];
        public long LastSeen;
    }

    private ResourceAggregate Resource(Resource resource, long now)
    {
        var key = ResourceKey(resource.Attributes);
        if (!_resources.TryGetValue(key, out var aggregate))
        {
            if (_resources.Count >= _config.ResourceMetricsCacheSize)
            {
                var oldest = _resources.MinBy(pair => pair.Value.LastSeen).Key;
                _resources.Remove(oldest);
            }
            var attributes = new RepeatedField<KeyValue>();
            if (_config.AddResourceAttributes) attributes.Add(resource.Attributes.Select(a => a.Clone()));
            else
                foreach (var identity in ServiceIdentity)
                    if (resource.Attributes.Get(identity) is { } value) attributes.Add(new KeyValue { Key = identity, Value = value.Clone() });
            _resources[key] = aggregate = new ResourceAggregate(attributes);
        }
        aggregate.LastSeen = now;
        return aggregate;
    }

    private string ResourceKey(RepeatedField<KeyValue> attributes)
    {
        var selected = _config.ResourceMetricsKeyAttributes.Count > 0
            ? attributes.Where(a => _config.ResourceMetricsKeyAttributes.Contains(a.Key))
            : attributes;
        var key = new StringBuilder();
        foreach (var attribute in selected.OrderBy(a => a.Key, StringComparer.Ordinal))
            key.Append(attribute.Key).Append('\u0000').Append(attribute.Value.AsString()).Append('\u0001');
        return key.ToString();
    }

    private void Aggregate(ResourceAggregate resource, Resource? spanResource, Span span, long now)
    {
        var weight = _config.WeightSampledSpans ? SamplingWeight(span.TraceState) : 1UL;
        var common = new List<KeyValue>(8);
        foreach (var dimension in _defaultDimensions)
        {
            var value = dimension switch
            {
                "service.name" => spanResource?.Attributes.Get("service.name")?.AsString() ?? "",
                "span.name" => span.Name,
                "span.kind" => SpanKindText(span.Kind),
                _ => StatusCodeText(span.Status?.Code ?? Status.Types.StatusCode.Unset),
            };
            common.Add(new KeyValue { Key = dimension, Value = new AnyValue { StringValue = value } });
        }
        AddDimensions(common, _config.Dimensions, span.Attributes, spanResource?.Attributes);

        var calls = Lookup(resource.Calls, WithDimensions(common, _config.CallsDimensions, span, spanResource), now);
        calls.Count += weight;
        AddExemplar(calls, span, 0);

        if (!_config.Histogram.Disable)
        {
            var durationNanos = span.EndTimeUnixNano >= span.StartTimeUnixNano ? span.EndTimeUnixNano - span.StartTimeUnixNano : 0;
            var duration = durationNanos / _unitDivisor;
            var series = Lookup(resource.Durations, WithDimensions(common, _config.Histogram.Dimensions, span, spanResource), now);
            series.Histogram ??= _config.Histogram.Exponential is { } exponential
                ? new ExponentialDurationHistogram(exponential.MaxSize)
                : new ExplicitDurationHistogram(_bounds);
            series.Histogram.Record(duration, weight);
            AddExemplar(series, span, duration);
        }

        if (_config.Events.Enabled)
            foreach (var spanEvent in span.Events)
            {
                var attributes = new List<KeyValue>(common);
                AddDimensions(attributes, _config.Events.Dimensions, spanEvent.Attributes, null);
                Lookup(resource.Events, attributes, now).Count += weight;
            }
    }

    private static List<KeyValue> WithDimensions(List<KeyValue> common, List<SpanMetricsDimension> extra, Span span, Resource? resource)
    {
        if (extra.Count == 0) return common;
        var attributes = new List<KeyValue>(common);
        AddDimensions(attributes, extra, span.Attributes, resource?.Attributes);
        return attributes;
    }

    /// <summary>
    /// The span's attribute, else the resource's (normalised into a route when asked), else the configured default;
    /// a dimension with none of them is left out.
    /// </summary>
    private static void AddDimensions(List<KeyValue> attributes, List<SpanMetricsDimension> dimensions, RepeatedField<KeyValue> first, RepeatedField<KeyValue>? second)
    {
        foreach (var dimension in dimensions)
        {
            var value = first.Get(dimension.Name) ?? second?.Get(dimension.Name);
            if (dimension.NormalizeRoute)
            {
                if (value is null && dimension.Name == "http.route") value = first.Get("url.path") ?? first.Get("http.target");
                if (value is not null) value = new AnyValue { StringValue = RouteNormalizer.Normalize(value.AsString()) };
            }
            if (value is not null) attributes.Add(new KeyValue { Key = dimension.Name, Value = value.Clone() });
            else if (dimension.Default is { } fallback) attributes.Add(new KeyValue { Key = dimension.Name, Value = new AnyValue { StringValue = fallback } });
        }
    }

    /// <summary>The series of these attributes, or the metric's overflow series once aggregation_cardinality_limit is reached.</summary>
    private Series Lookup(Dictionary<string, Series> metric, List<KeyValue> attributes, long now)
    {
        var key = new StringBuilder();
        foreach (var attribute in attributes) key.Append(attribute.Key).Append('\u0000').Append(attribute.Value.AsString()).Append('\u0001');
        var keyText = key.ToString();
        if (!metric.TryGetValue(keyText, out var series))
        {
            var limit = _config.AggregationCardinalityLimit;
            if (limit > 0 && metric.Count >= limit)
            {
                keyText = OverflowAttribute;
                attributes = [new KeyValue { Key = OverflowAttribute, Value = new AnyValue { BoolValue = true } }];
            }
            if (!metric.TryGetValue(keyText, out series))
                metric[keyText] = series = new Series([.. attributes], _config.AggregationTemporality == SpanMetricsTemporality.Delta ? _lastFlushUnixNano : NowUnixNano());
        }
        series.LastSeen = now;
        return series;
    }

    private void AddExemplar(Series series, Span span, double value)
    {
        if (!_config.Exemplars.Enabled) return;
        if (_config.Exemplars.MaxPerDataPoint > 0 && series.Exemplars.Count >= _config.Exemplars.MaxPerDataPoint) return;
        series.Exemplars.Add(new Exemplar { TraceId = span.TraceId, SpanId = span.SpanId, AsDouble = value, TimeUnixNano = span.EndTimeUnixNano });
    }

    /// <summary>
    /// How many spans this one stands for: 1 / p for the W3C tracestate's OpenTelemetry threshold <c>ot=th:T</c>
    /// (T hexadecimal, up to 14 digits, right-padded; the rejection probability is T / 2^56), rounded; 1 without one.
    /// </summary>
    internal static ulong SamplingWeight(string traceState)
    {
        if (traceState.Length == 0) return 1;
        foreach (var member in traceState.Split(','))
        {
            var entry = member.Trim();
            if (!entry.StartsWith("ot=", StringComparison.Ordinal)) continue;
            foreach (var field in entry[3..].Split(';'))
            {
                if (!field.StartsWith("th:", StringComparison.Ordinal)) continue;
                var hex = field[3..];
                if (hex.Length is 0 or > 14 || !ulong.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var threshold)) return 1;
                threshold <<= 4 * (14 - hex.Length);
                const double full = 72057594037927936d; // 2^56
                return threshold >= (1UL << 56) ? 1 : (ulong)Math.Max(1, Math.Round(full / (full - threshold)));
            }
        }
        return 1;
    }

    private static string SpanKindText(Span.Types.SpanKind kind) => kind switch
    {
        Span.Types.SpanKind.Internal => "SPAN_KIND_INTERNAL",
        Span.Types.SpanKind.Server => "SPAN_KIND_SERVER",
        Span.Types.SpanKind.Client => "SPAN_KIND_CLIENT",
        Span.Types.SpanKind.Producer => "SPAN_KIND_PRODUCER",
        Span.Types.SpanKind.Consumer => "SPAN_KIND_CONSUMER",
        _ => "SPAN_KIND_UNSPECIFIED",
    };

    private static string StatusCodeText(Status.Types.StatusCode code) => code switch
    {
        Status.Types.StatusCode.Ok => "STATUS_CODE_OK",
        Status.Types.StatusCode.Error => "STATUS_CODE_ERROR",
        _ => "STATUS_CODE_UNSET",
    };

    private ulong NowUnixNano() => (ulong)(_time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * 100;

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
            _settings.Logger.LogWarning("connector {Connector}: the metrics pipeline refused the span metrics: {Error}", _settings.Id, ex.Message);
        }
    }

    private ExportMetricsServiceRequest Collect()
    {
        var now = NowUnixNano();
        var nowTicks = _time.GetTimestamp();
        var delta = _config.AggregationTemporality == SpanMetricsTemporality.Delta;
        var temporality = delta ? AggregationTemporality.Delta : AggregationTemporality.Cumulative;
        var request = new ExportMetricsServiceRequest();
        foreach (var (key, resource) in _resources.ToList())
        {
            if (_config.MetricsExpiration > TimeSpan.Zero && Elapsed(resource.LastSeen, nowTicks) > _config.MetricsExpiration)
            {
                _resources.Remove(key);
                continue;
            }
            var scope = new ScopeMetrics { Scope = new InstrumentationScope { Name = ScopeName } };
            AddSum(scope, "calls", "{call}", "Number of spans.", resource.Calls, temporality, now, nowTicks);
            if (!_config.Histogram.Disable) AddHistogram(scope, resource.Durations, temporality, now, nowTicks);
            if (_config.Events.Enabled) AddSum(scope, "events", "{event}", "Number of span events.", resource.Events, temporality, now, nowTicks);
            if (scope.Metrics.Count == 0) continue;
            var resourceMetrics = new ResourceMetrics { Resource = new Resource() };
            resourceMetrics.Resource.Attributes.Add(resource.Attributes.Select(a => a.Clone()));
            resourceMetrics.ScopeMetrics.Add(scope);
            request.ResourceMetrics.Add(resourceMetrics);
            if (delta)
            {
                resource.Calls.Clear();
                resource.Durations.Clear();
                resource.Events.Clear();
            }
        }
        _lastFlushUnixNano = now;
        return request;
    }

    private string MetricName(string name) => _config.Namespace.Length > 0 ? _config.Namespace + "." + name : name;

    private bool Expired(Series series, long nowTicks) =>
        _config.SeriesExpiration > TimeSpan.Zero && Elapsed(series.LastSeen, nowTicks) > _config.SeriesExpiration;

    private TimeSpan Elapsed(long since, long nowTicks) => _time.GetElapsedTime(since, nowTicks);

    private void AddSum(ScopeMetrics scope, string name, string unit, string description, Dictionary<string, Series> metric, AggregationTemporality temporality, ulong now, long nowTicks)
    {
        RemoveExpired(metric, nowTicks);
        if (metric.Count == 0) return;
        var sum = new Sum { IsMonotonic = true, AggregationTemporality = temporality };
        foreach (var series in metric.Values)
        {
            var point = new NumberDataPoint { StartTimeUnixNano = series.StartUnixNano, TimeUnixNano = now };
            if (series.Count == Math.Floor(series.Count) && series.Count < long.MaxValue) point.AsInt = (long)series.Count;
            else point.AsDouble = series.Count;
            point.Attributes.Add(series.Attributes.Select(a => a.Clone()));
            point.Exemplars.Add(series.Exemplars);
            series.Exemplars.Clear();
            sum.DataPoints.Add(point);
        }
        scope.Metrics.Add(new Metric { Name = MetricName(name), Unit = unit, Description = description, Sum = sum });
    }

    private void AddHistogram(ScopeMetrics scope, Dictionary<string, Series> metric, AggregationTemporality temporality, ulong now, long nowTicks)
    {
        RemoveExpired(metric, nowTicks);
        if (metric.Count == 0) return;
        var output = new Metric { Name = MetricName("duration"), Unit = _unit, Description = "Duration of the spans." };
        var exponential = _config.Histogram.Exponential is not null;
        if (exponential) output.ExponentialHistogram = new ExponentialHistogram { AggregationTemporality = temporality };
        else output.Histogram = new Histogram { AggregationTemporality = temporality };
        foreach (var series in metric.Values)
        {
            if (series.Histogram is ExponentialDurationHistogram expo)
            {
                var p = expo.ToPoint();
                p.StartTimeUnixNano = series.StartUnixNano;
                p.TimeUnixNano = now;
                p.Attributes.Add(series.Attributes.Select(a => a.Clone()));
                p.Exemplars.Add(series.Exemplars);
                output.ExponentialHistogram.DataPoints.Add(p);
            }
            else if (series.Histogram is ExplicitDurationHistogram explicitHistogram)
            {
                var p = explicitHistogram.ToPoint();
                p.StartTimeUnixNano = series.StartUnixNano;
                p.TimeUnixNano = now;
                p.Attributes.Add(series.Attributes.Select(a => a.Clone()));
                p.Exemplars.Add(series.Exemplars);
                output.Histogram.DataPoints.Add(p);
            }
            series.Exemplars.Clear();
        }
        scope.Metrics.Add(output);
    }

    private void RemoveExpired(Dictionary<string, Series> metric, long nowTicks)
    {
        if (_config.SeriesExpiration <= TimeSpan.Zero) return;
        foreach (var (key, series) in metric.ToList())
            if (Expired(series, nowTicks)) metric.Remove(key);
    }
}
