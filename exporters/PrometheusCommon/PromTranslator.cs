using Google.Protobuf.Collections;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Metrics.V1;
using OtelAi.Otlp.Proto.Resource.V1;

namespace OtelAi.Exporters.PrometheusCommon;

/// <summary>How the exporters that speak Prometheus want OTLP translated.</summary>
internal sealed record PromTranslation
{
    public required PrometheusNaming Naming { get; init; }

    /// <summary>Added to every series unless a point's own label has the name (const_labels, external_labels).</summary>
    public IReadOnlyDictionary<string, string> ExtraLabels { get; init; } = new Dictionary<string, string>();

    /// <summary>Resource attributes that become labels of the resource's series (resource_to_telemetry_conversion, resource_constant_labels).</summary>
    public ResourceAttributeSelector? ResourceAttributes { get; init; }

    /// <summary>otel_scope_name, otel_scope_version, otel_scope_schema_url and otel_scope_* attribute labels.</summary>
    public bool ScopeLabels { get; init; } = true;

    /// <summary>A target_info series per resource with its non-identifying attributes.</summary>
    public bool TargetInfo { get; init; } = true;
}

/// <summary>
/// Translates OTLP metrics into Prometheus series as the OpenTelemetry compatibility specification says: monotonic
/// sums are counters, non-monotonic sums and gauges are gauges, explicit and exponential histograms are classic
/// histograms (exponential buckets become their upper bounds), summaries stay summaries. job and instance come from
/// service.namespace/service.name and service.instance.id, the other resource attributes go on target_info.
/// Points of unspecified temporality are invalid and skipped (counted by the caller through the returned total).
/// </summary>
internal sealed class PromTranslator(PromTranslation settings)
{
    public const string TargetInfoName = "target_info";
    private const string ServiceName = "service.name";
    private const string ServiceNamespace = "service.namespace";
    private const string ServiceInstanceId = "service.instance.id";

    private static readonly PromFamily TargetInfoFamily = new(TargetInfoName, PromType.Info, "Target metadata", "");

    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Name, string Unit, PromType Type), PromFamily> _families = new();

    public PromTranslation Settings => settings;

    /// <summary>Calls <paramref name="emit"/> for every translated point (and target_info per resource); returns the number of points skipped as invalid.</summary>
    public int Translate(ExportMetricsServiceRequest request, long nowTicks, Action<PromSeries> emit)
    {
        var skipped = 0;
        foreach (var resourceMetrics in request.ResourceMetrics)
        {
            var resource = resourceMetrics.Resource ?? new Resource();
            var identity = Identity(resource.Attributes);
            var resourceLabels = ResourceLabels(resource.Attributes);
            long latest = 0;
            foreach (var scopeMetrics in resourceMetrics.ScopeMetrics)
            {
                var scope = ScopeLabels(scopeMetrics.Scope, scopeMetrics.SchemaUrl);
                foreach (var metric in scopeMetrics.Metrics)
                    skipped += TranslateMetric(metric, new LabelContext(resourceLabels, scope, identity), nowTicks, point =>
                    {
                        latest = Math.Max(latest, point.TimeUnixNano);
                        emit(point);
                    });
            }
            if (settings.TargetInfo && latest > 0 && TargetInfoSeries(resource, identity, latest, nowTicks) is { } info) emit(info);
        }
        return skipped;
    }

    private sealed record LabelContext(List<(string Key, string Value)> ResourceAttributes, List<PromLabel> Scope, List<PromLabel> Identity);

    private List<(string Key, string Value)> ResourceLabels(RepeatedField<KeyValue> attributes)
    {
        var selected = new List<(string, string)>();
        if (settings.ResourceAttributes is not { } selector) return selected;
        foreach (var attribute in attributes)
            if (selector.Selects(attribute.Key)) selected.Add((attribute.Key, attribute.Value.AsString()));
        return selected;
    }

    private int TranslateMetric(Metric metric, LabelContext context, long nowTicks, Action<PromSeries> emit)
    {
        return metric.DataCase switch
        {
            Metric.DataOneofCase.Gauge => Each(metric.Gauge.DataPoints, AggregationTemporality.Cumulative, Family(metric, PromType.Gauge),
                (family, point, _) => Number(family, point, isDelta: false, context, nowTicks), emit),
            Metric.DataOneofCase.Sum => Each(metric.Sum.DataPoints, metric.Sum.AggregationTemporality, Family(metric, metric.Sum.IsMonotonic ? PromType.Counter : PromType.Gauge),
                (family, point, delta) => Number(family, point, delta, context, nowTicks), emit),
            Metric.DataOneofCase.Histogram => Each(metric.Histogram.DataPoints, metric.Histogram.AggregationTemporality, Family(metric, PromType.Histogram),
                (family, point, delta) => Histogram(family, point, delta, context, nowTicks), emit),
            Metric.DataOneofCase.ExponentialHistogram => Each(metric.ExponentialHistogram.DataPoints, metric.ExponentialHistogram.AggregationTemporality, Family(metric, PromType.Histogram),
                (family, point, delta) => ExponentialHistogram(family, point, delta, context, nowTicks), emit),
            Metric.DataOneofCase.Summary => Each(metric.Summary.DataPoints, AggregationTemporality.Cumulative, Family(metric, PromType.Summary),
                (family, point, _) => Summary(family, point, context, nowTicks), emit),
            _ => 0,
        };
    }

    /// <summary>Translates every point of one metric; a metric of unspecified temporality is invalid: its points are skipped and counted.</summary>
    private static int Each<TPoint>(RepeatedField<TPoint> points, AggregationTemporality temporality, PromFamily family,
        Func<PromFamily, TPoint, bool, PromSeries> translate, Action<PromSeries> emit)
    {
        if (temporality == AggregationTemporality.Unspecified) return points.Count;
        foreach (var point in points) emit(translate(family, point, temporality == AggregationTemporality.Delta));
        return 0;
    }

    private PromFamily Family(Metric metric, PromType type)
    {
        // Lock-free: requests translate concurrently; racing writers compute the same family.
        var key = (metric.Name, metric.Unit, type);
        if (_families.Count > 100_000) _families.Clear(); // a cache, not a registry: bound it against ever-new names
        var family = _families.GetOrAdd(key, static (k, state) => new PromFamily(state.Naming.MetricName(state.Metric, k.Type), k.Type, state.Metric.Description, state.Metric.Unit),
            (settings.Naming, Metric: metric));
        if (family.Help != metric.Description) _families[key] = family = family with { Help = metric.Description };
        return family;
    }

    /// <summary>What every translated point has: family, labels, temporality, staleness, times, exemplars.</summary>
    private PromSeries Point(PromFamily family, RepeatedField<KeyValue> attributes, uint flags, ulong start, ulong time, bool isDelta,
        RepeatedField<Exemplar>? exemplars, LabelContext context, long nowTicks) => new()
    {
        Family = family,
        Labels = Labels(attributes, context),
        IsDelta = isDelta,
        NoRecordedValue = (flags & (uint)DataPointFlags.NoRecordedValueMask) != 0,
        StartTimeUnixNano = (long)start,
        TimeUnixNano = (long)time,
        Exemplars = exemplars is null ? [] : Exemplars(exemplars),
        UpdatedTicks = nowTicks,
    };

    private PromSeries Number(PromFamily family, NumberDataPoint point, bool isDelta, LabelContext context, long nowTicks)
    {
        var series = Point(family, point.Attributes, point.Flags, point.StartTimeUnixNano, point.TimeUnixNano, isDelta, point.Exemplars, context, nowTicks);
        series.Value = point.ValueCase == NumberDataPoint.ValueOneofCase.AsInt ? point.AsInt : point.AsDouble;
        return series;
    }

    private PromSeries Histogram(PromFamily family, HistogramDataPoint point, bool isDelta, LabelContext context, long nowTicks)
    {
        var counts = new ulong[point.ExplicitBounds.Count + 1];
        for (var i = 0; i < counts.Length && i < point.BucketCounts.Count; i++) counts[i] = point.BucketCounts[i];
        if (point.BucketCounts.Count == 0) counts[^1] = point.Count; // no buckets recorded: all in +Inf
        var series = Point(family, point.Attributes, point.Flags, point.StartTimeUnixNano, point.TimeUnixNano, isDelta, point.Exemplars, context, nowTicks);
        series.Bounds = [.. point.ExplicitBounds];
        series.BucketCounts = counts;
        series.Sum = point.HasSum ? point.Sum : 0;
        series.Count = point.Count;
        return series;
    }

    /// <summary>
    /// An exponential histogram as classic buckets: bucket i of scale s covers (base^i, base^(i+1)] with
    /// base = 2^(2^-s), so its upper bound is base^(i+1); negative buckets mirror that below zero, and the zero
    /// bucket ends at zero_threshold.
    /// </summary>
    private PromSeries ExponentialHistogram(PromFamily family, ExponentialHistogramDataPoint point, bool isDelta, LabelContext context, long nowTicks)
    {
        var bounds = new List<double>();
        var counts = new List<ulong>();
        var scaleFactor = Math.Pow(2, -point.Scale);
        double UpperBound(long index) => Math.Pow(2, index * scaleFactor);

        if (point.Negative is { BucketCounts.Count: > 0 } negative)
            for (var i = negative.BucketCounts.Count - 1; i >= 0; i--)
            {
                bounds.Add(-UpperBound(negative.Offset + i));
                counts.Add(negative.BucketCounts[i]);
            }
        bounds.Add(point.ZeroThreshold);
        counts.Add(point.ZeroCount);
        if (point.Positive is { BucketCounts.Count: > 0 } positive)
            for (var i = 0; i < positive.BucketCounts.Count; i++)
            {
                bounds.Add(UpperBound(positive.Offset + i + 1));
                counts.Add(positive.BucketCounts[i]);
            }
        counts.Add(0); // +Inf holds nothing beyond the last positive bucket
        var series = Point(family, point.Attributes, point.Flags, point.StartTimeUnixNano, point.TimeUnixNano, isDelta, point.Exemplars, context, nowTicks);
        series.Bounds = [.. bounds];
        series.BucketCounts = [.. counts];
        series.Sum = point.HasSum ? point.Sum : 0;
        series.Count = point.Count;
        return series;
    }

    private PromSeries Summary(PromFamily family, SummaryDataPoint point, LabelContext context, long nowTicks)
    {
        var series = Point(family, point.Attributes, point.Flags, point.StartTimeUnixNano, point.TimeUnixNano, isDelta: false, exemplars: null, context, nowTicks);
        series.Sum = point.Sum;
        series.Count = point.Count;
        series.Quantiles = [.. point.QuantileValues.Select(q => (q.Quantile, q.Value))];
        return series;
    }

    private PromSeries? TargetInfoSeries(Resource resource, List<PromLabel> identity, long timeUnixNano, long nowTicks)
    {
        var attributes = new List<(string Key, string Value)>();
        foreach (var attribute in resource.Attributes)
            if (attribute.Key is not (ServiceName or ServiceNamespace or ServiceInstanceId))
                attributes.Add((attribute.Key, attribute.Value.AsString()));
        if (attributes.Count == 0) return null;
        var labels = Merge(attributes, [], identity, honourExtra: false);
        return new PromSeries
        {
            Family = TargetInfoFamily,
            Labels = labels,
            TimeUnixNano = timeUnixNano,
            Value = 1,
            UpdatedTicks = nowTicks,
        };
    }

    /// <summary>job = [service.namespace/]service.name, instance = service.instance.id, when the resource has them.</summary>
    private static List<PromLabel> Identity(RepeatedField<KeyValue> attributes)
    {
        var identity = new List<PromLabel>(2);
        if (attributes.Get(ServiceName) is { } name)
        {
            var job = name.AsString();
            if (attributes.Get(ServiceNamespace) is { } ns && ns.AsString() is { Length: > 0 } nsText) job = nsText + "/" + job;
            identity.Add(new PromLabel("job", job));
        }
        if (attributes.Get(ServiceInstanceId) is { } instance) identity.Add(new PromLabel("instance", instance.AsString()));
        return identity;
    }

    private List<PromLabel> ScopeLabels(InstrumentationScope? scope, string schemaUrl)
    {
        var labels = new List<PromLabel>();
        if (!settings.ScopeLabels || scope is null) return labels;
        if (scope.Name.Length > 0) labels.Add(new PromLabel("otel_scope_name", scope.Name));
        if (scope.Version.Length > 0) labels.Add(new PromLabel("otel_scope_version", scope.Version));
        if (schemaUrl.Length > 0) labels.Add(new PromLabel("otel_scope_schema_url", schemaUrl));
        foreach (var attribute in scope.Attributes)
            labels.Add(new PromLabel(settings.Naming.LabelName("otel_scope_" + attribute.Key), attribute.Value.AsString()));
        return labels;
    }

    private PromLabel[] Labels(RepeatedField<KeyValue> pointAttributes, LabelContext context)
    {
        var attributes = new List<(string Key, string Value)>(pointAttributes.Count + context.ResourceAttributes.Count);
        foreach (var attribute in pointAttributes) attributes.Add((attribute.Key, attribute.Value.AsString()));
        foreach (var (key, value) in context.ResourceAttributes)
            if (pointAttributes.IndexOf(key) < 0) attributes.Add((key, value));
        return Merge(attributes, context.Scope, context.Identity, honourExtra: true);
    }

    /// <summary>
    /// The label set: attributes by escaped key (keys that escape alike are joined with ';' in the order of their
    /// original keys), then scope labels, then job/instance (which win), then the configured extra labels where
    /// nothing else set them; sorted by name.
    /// </summary>
    private PromLabel[] Merge(List<(string Key, string Value)> attributes, List<PromLabel> scope, List<PromLabel> identity, bool honourExtra)
    {
        attributes.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        var labels = new Dictionary<string, string>(attributes.Count + scope.Count + identity.Count + settings.ExtraLabels.Count, StringComparer.Ordinal);
        foreach (var (key, value) in attributes)
        {
            var name = settings.Naming.LabelName(key);
            if (name.Length == 0) continue;
            labels[name] = labels.TryGetValue(name, out var existing) ? existing + ";" + value : value;
        }
        foreach (var label in scope) labels[label.Name] = label.Value;
        foreach (var label in identity) labels[label.Name] = label.Value;
        if (honourExtra)
            foreach (var (name, value) in settings.ExtraLabels) labels.TryAdd(name, value);
        var result = new PromLabel[labels.Count];
        var index = 0;
        foreach (var (name, value) in labels) result[index++] = new PromLabel(name, value);
        Array.Sort(result, static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        return result;
    }

    private static PromExemplar[] Exemplars(RepeatedField<Exemplar> exemplars)
    {
        if (exemplars.Count == 0) return [];
        var result = new PromExemplar[exemplars.Count];
        for (var i = 0; i < result.Length; i++)
        {
            var exemplar = exemplars[i];
            result[i] = new PromExemplar(
                exemplar.ValueCase == Exemplar.ValueOneofCase.AsInt ? exemplar.AsInt : exemplar.AsDouble,
                (long)exemplar.TimeUnixNano,
                exemplar.TraceId.Length == 16 ? Convert.ToHexStringLower(exemplar.TraceId.Span) : "",
                exemplar.SpanId.Length == 8 ? Convert.ToHexStringLower(exemplar.SpanId.Span) : "");
        }
        return result;
    }
}
