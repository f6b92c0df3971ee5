using Google.Protobuf.Collections;
using OtelAi.Engine.Components;
using OtelAi.Engine.Consumers;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Metrics.V1;
using OtelAi.Otlp.Proto.Resource.V1;
using OtelAi.Otlp.Proto.Trace.V1;
using OtelAi.Processors.Common;

namespace OtelAi.Processors.SpanMetrics;

/// <summary>
/// otelcol's spanmetrics connector: every span adds to a calls counter and a duration histogram (and each span
/// event to an events counter) keyed by resource and dimensions. Spans that carry a consistent-probability sampling
/// threshold (tracestate <c>ot=th:…</c>) count as the number of spans they stand for.
/// </summary>
internal sealed class SpanMetricsConnector : DerivedMetricsConnector
{
    private const string Calls = "calls", Duration = "duration", Events = "events";
    private static readonly double[] DefaultBucketsMs = [2, 4, 6, 8, 10, 50, 100, 200, 400, 800, 1000, 1400, 2000, 5000, 10_000, 15_000];

    private readonly SpanMetricsConfig _config;
    private readonly string[] _defaultDimensions;
    private readonly double[] _bounds;
    private readonly double _unitDivisor;
    private readonly string _unit;

    public SpanMetricsConnector(ComponentCreateSettings settings, SpanMetricsConfig config, ITelemetryConsumer<ExportMetricsServiceRequest> next, TimeProvider? time = null)
        : base(settings, new DerivedMetricsOptions
        {
            ScopeName = "spanmetricsconnector",
            FlushInterval = config.MetricsFlushInterval,
            Delta = config.AggregationTemporality == SpanMetricsTemporality.Delta,
            ResourceCacheSize = config.ResourceMetricsCacheSize,
            ResourceKeyAttributes = config.ResourceMetricsKeyAttributes,
            AddResourceAttributes = config.AddResourceAttributes,
            ResourceExpiration = config.MetricsExpiration,
            SeriesExpiration = config.SeriesExpiration,
            CardinalityLimit = config.AggregationCardinalityLimit,
            IncludeScopes = config.IncludeInstrumentationScope,
        }, next, SpanMetricsConnectorFactory.FlushFailures, time)
    {
        _config = config;
        _defaultDimensions = [.. SpanMetricsConfig.DefaultDimensions.Where(d => !config.ExcludeDimensions.Contains(d))];
        var seconds = config.Histogram.Unit == HistogramUnit.Seconds;
        _unitDivisor = seconds ? 1e9 : 1e6;
        _unit = seconds ? "s" : "ms";
        _bounds = config.Histogram.Explicit is { Buckets.Count: > 0 } explicitConfig
            ? [.. explicitConfig.Buckets.Select(b => seconds ? b.TotalSeconds : b.TotalMilliseconds)]
            : [.. DefaultBucketsMs.Select(ms => seconds ? ms / 1000 : ms)];
    }

    protected override void Aggregate(ResourceTables tables, Resource? resource, Span span, long nowTicks)
    {
        var weight = _config.WeightSampledSpans ? SamplingThreshold.Weight(span.TraceState) : 1UL;
        var common = new List<KeyValue>(8);
        foreach (var dimension in _defaultDimensions)
        {
            var value = dimension switch
            {
                "service.name" => resource?.Attributes.Get("service.name")?.AsString() ?? "",
                "span.name" => span.Name,
                "span.kind" => SpanKindText(span.Kind),
                _ => StatusCodeText(span.Status?.Code ?? Status.Types.StatusCode.Unset),
            };
            common.Add(new KeyValue { Key = dimension, Value = new AnyValue { StringValue = value } });
        }
        AddDimensions(common, _config.Dimensions, span.Attributes, resource?.Attributes);

        var calls = tables[Calls].Lookup(WithDimensions(common, _config.CallsDimensions, span, resource), SeriesStart, nowTicks);
        calls.Count += weight;
        AddExemplar(calls, span, 0);

        if (!_config.Histogram.Disable)
        {
            var durationNanos = span.EndTimeUnixNano >= span.StartTimeUnixNano ? span.EndTimeUnixNano - span.StartTimeUnixNano : 0;
            var duration = durationNanos / _unitDivisor;
            var series = tables[Duration].Lookup(WithDimensions(common, _config.Histogram.Dimensions, span, resource), SeriesStart, nowTicks);
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
                tables[Events].Lookup(attributes, SeriesStart, nowTicks).Count += weight;
            }
    }

    protected override void Emit(ResourceTables tables, ScopeMetrics scope, AggregationTemporality temporality, ulong nowUnixNano)
    {
        if (tables[Calls].ToSum(MetricName(Calls), "{call}", "Number of spans.", temporality, nowUnixNano) is { } calls) scope.Metrics.Add(calls);
        if (!_config.Histogram.Disable && tables[Duration].ToHistogram(MetricName(Duration), _unit, "Duration of the spans.", temporality, nowUnixNano) is { } duration)
            scope.Metrics.Add(duration);
        if (_config.Events.Enabled && tables[Events].ToSum(MetricName(Events), "{event}", "Number of span events.", temporality, nowUnixNano) is { } events)
            scope.Metrics.Add(events);
    }

    private string MetricName(string name) => _config.Namespace.Length > 0 ? _config.Namespace + "." + name : name;

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

    private void AddExemplar(MetricSeriesTable.Series series, Span span, double value)
    {
        if (!_config.Exemplars.Enabled) return;
        if (_config.Exemplars.MaxPerDataPoint > 0 && series.Exemplars.Count >= _config.Exemplars.MaxPerDataPoint) return;
        series.Exemplars.Add(new Exemplar { TraceId = span.TraceId, SpanId = span.SpanId, AsDouble = value, TimeUnixNano = span.EndTimeUnixNano });
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
}
