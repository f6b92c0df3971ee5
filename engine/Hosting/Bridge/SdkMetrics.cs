using OpenTelemetry;
using OpenTelemetry.Metrics;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Metrics.V1;
using Metric = OpenTelemetry.Metrics.Metric;
using OtlpMetric = OtelAi.Otlp.Proto.Metrics.V1.Metric;

namespace OtelAi.Hosting.Bridge;

/// <summary>
/// SDK metrics as OTLP, as the SDK's OTLP exporter writes them: a scope per meter name (version, tags, schema URL),
/// sums (monotonic or not) and gauges as number points of their long or double kind, explicit-bucket and exponential
/// histograms with min/max when recorded, the reader's temporality, exemplars with their filtered attributes and
/// trace context, and the resource's schema URL.
/// </summary>
internal static class SdkMetrics
{
    public static ExportMetricsServiceRequest Convert(in Batch<Metric> batch, OpenTelemetry.Resources.Resource? resource)
    {
        var resourceMetrics = new ResourceMetrics { Resource = SdkResources.Convert(resource), SchemaUrl = resource?.SchemaUrl ?? "" };
        var scopes = new Dictionary<string, ScopeMetrics>(StringComparer.Ordinal);
        foreach (var metric in batch)
        {
            if (!scopes.TryGetValue(metric.MeterName, out var scope))
            {
                scope = new ScopeMetrics
                {
                    Scope = new InstrumentationScope { Name = metric.MeterName, Version = metric.MeterVersion ?? "" },
                    SchemaUrl = metric.MeterSchemaUrl ?? "",
                };
                SdkValues.AddAll(scope.Scope.Attributes, metric.MeterTags);
                scopes[metric.MeterName] = scope;
                resourceMetrics.ScopeMetrics.Add(scope);
            }
            scope.Metrics.Add(Convert(metric));
        }
        return new ExportMetricsServiceRequest { ResourceMetrics = { resourceMetrics } };
    }

    private static OtlpMetric Convert(Metric metric)
    {
        var converted = new OtlpMetric { Name = metric.Name, Description = metric.Description ?? "", Unit = metric.Unit ?? "" };
        var temporality = metric.Temporality == OpenTelemetry.Metrics.AggregationTemporality.Cumulative
            ? Otlp.Proto.Metrics.V1.AggregationTemporality.Cumulative
            : Otlp.Proto.Metrics.V1.AggregationTemporality.Delta;
        switch (metric.MetricType)
        {
            case MetricType.LongSum or MetricType.LongSumNonMonotonic or MetricType.DoubleSum or MetricType.DoubleSumNonMonotonic:
                converted.Sum = new Sum { IsMonotonic = metric.MetricType is MetricType.LongSum or MetricType.DoubleSum, AggregationTemporality = temporality };
                foreach (ref readonly var point in metric.GetMetricPoints())
                    converted.Sum.DataPoints.Add(metric.MetricType is MetricType.LongSum or MetricType.LongSumNonMonotonic
                        ? Number(point, point.GetSumLong())
                        : Number(point, point.GetSumDouble()));
                break;
            case MetricType.LongGauge or MetricType.DoubleGauge:
                converted.Gauge = new Gauge();
                foreach (ref readonly var point in metric.GetMetricPoints())
                    converted.Gauge.DataPoints.Add(metric.MetricType == MetricType.LongGauge
                        ? Number(point, point.GetGaugeLastValueLong())
                        : Number(point, point.GetGaugeLastValueDouble()));
                break;
            case MetricType.Histogram:
                converted.Histogram = new Histogram { AggregationTemporality = temporality };
                foreach (ref readonly var point in metric.GetMetricPoints()) converted.Histogram.DataPoints.Add(Histogram(point));
                break;
            case MetricType.ExponentialHistogram:
                converted.ExponentialHistogram = new ExponentialHistogram { AggregationTemporality = temporality };
                foreach (ref readonly var point in metric.GetMetricPoints()) converted.ExponentialHistogram.DataPoints.Add(Exponential(point));
                break;
        }
        return converted;
    }

    private static NumberDataPoint Number(in MetricPoint point, double value) => Number(point, integer: false, p => p.AsDouble = value);

    private static NumberDataPoint Number(in MetricPoint point, long value) => Number(point, integer: true, p => p.AsInt = value);

    private static NumberDataPoint Number(in MetricPoint point, bool integer, Action<NumberDataPoint> setValue)
    {
        var converted = new NumberDataPoint { StartTimeUnixNano = Nanos(point.StartTime), TimeUnixNano = Nanos(point.EndTime) };
        setValue(converted);
        Tags(converted.Attributes, point.Tags);
        converted.Exemplars.AddRange(Exemplars(point, integer));
        return converted;
    }

    private static HistogramDataPoint Histogram(in MetricPoint point)
    {
        var converted = new HistogramDataPoint
        {
            StartTimeUnixNano = Nanos(point.StartTime), TimeUnixNano = Nanos(point.EndTime),
            Count = (ulong)point.GetHistogramCount(), Sum = point.GetHistogramSum(),
        };
        Tags(converted.Attributes, point.Tags);
        if (point.TryGetHistogramMinMaxValues(out var min, out var max))
        {
            converted.Min = min;
            converted.Max = max;
        }
        foreach (var bucket in point.GetHistogramBuckets())
        {
            converted.BucketCounts.Add((ulong)bucket.BucketCount);
            if (!double.IsPositiveInfinity(bucket.ExplicitBound)) converted.ExplicitBounds.Add(bucket.ExplicitBound);
        }
        converted.Exemplars.AddRange(Exemplars(point, integer: false));
        return converted;
    }

    private static ExponentialHistogramDataPoint Exponential(in MetricPoint point)
    {
        var data = point.GetExponentialHistogramData();
        var converted = new ExponentialHistogramDataPoint
        {
            StartTimeUnixNano = Nanos(point.StartTime), TimeUnixNano = Nanos(point.EndTime),
            Sum = point.GetHistogramSum(), Count = (ulong)point.GetHistogramCount(),
            Scale = data.Scale, ZeroCount = (ulong)data.ZeroCount,
            Positive = new ExponentialHistogramDataPoint.Types.Buckets { Offset = data.PositiveBuckets.Offset },
        };
        Tags(converted.Attributes, point.Tags);
        if (point.TryGetHistogramMinMaxValues(out var min, out var max))
        {
            converted.Min = min;
            converted.Max = max;
        }
        foreach (var count in data.PositiveBuckets) converted.Positive.BucketCounts.Add((ulong)count);
        converted.Exemplars.AddRange(Exemplars(point, integer: false));
        return converted;
    }

    private static List<Otlp.Proto.Metrics.V1.Exemplar> Exemplars(in MetricPoint point, bool integer)
    {
        var exemplars = new List<Otlp.Proto.Metrics.V1.Exemplar>();
        if (!point.TryGetExemplars(out var collection)) return exemplars;
        foreach (ref readonly var exemplar in collection)
        {
            var converted = new Otlp.Proto.Metrics.V1.Exemplar { TimeUnixNano = Nanos(exemplar.Timestamp) };
            foreach (var tag in exemplar.FilteredTags) SdkValues.Add(converted.FilteredAttributes, tag.Key, tag.Value);
            if (integer) converted.AsInt = exemplar.LongValue;
            else converted.AsDouble = exemplar.DoubleValue;
            if (exemplar.SpanId != default)
            {
                converted.SpanId = SdkTraces.SpanId(exemplar.SpanId);
                converted.TraceId = SdkTraces.TraceId(exemplar.TraceId);
            }
            exemplars.Add(converted);
        }
        return exemplars;
    }

    private static void Tags(Google.Protobuf.Collections.RepeatedField<KeyValue> target, ReadOnlyTagCollection tags)
    {
        foreach (var tag in tags) SdkValues.Add(target, tag.Key, tag.Value);
    }

    private static ulong Nanos(DateTimeOffset time) => SdkTraces.Nanos(time.UtcDateTime);
}
