using Google.Protobuf.Collections;
using OtelAi.Otlp.Proto.Metrics.V1;

namespace OtelAi.Otlp;

/// <summary>Data point counting and splitting for one metric, whatever its type.</summary>
public static class MetricPoints
{
    public static int Count(Metric metric) => metric.DataCase switch
    {
        Metric.DataOneofCase.Gauge => metric.Gauge.DataPoints.Count,
        Metric.DataOneofCase.Sum => metric.Sum.DataPoints.Count,
        Metric.DataOneofCase.Histogram => metric.Histogram.DataPoints.Count,
        Metric.DataOneofCase.ExponentialHistogram => metric.ExponentialHistogram.DataPoints.Count,
        Metric.DataOneofCase.Summary => metric.Summary.DataPoints.Count,
        _ => 0,
    };

    /// <summary>The attribute list of each data point of <paramref name="metric"/>, whatever its type.</summary>
    public static IEnumerable<RepeatedField<Proto.Common.V1.KeyValue>> PointAttributes(Metric metric) => metric.DataCase switch
    {
        Metric.DataOneofCase.Gauge => metric.Gauge.DataPoints.Select(p => p.Attributes),
        Metric.DataOneofCase.Sum => metric.Sum.DataPoints.Select(p => p.Attributes),
        Metric.DataOneofCase.Histogram => metric.Histogram.DataPoints.Select(p => p.Attributes),
        Metric.DataOneofCase.ExponentialHistogram => metric.ExponentialHistogram.DataPoints.Select(p => p.Attributes),
        Metric.DataOneofCase.Summary => metric.Summary.DataPoints.Select(p => p.Attributes),
        _ => [],
    };

    /// <summary>The data points of <paramref name="metric"/>, whatever its type.</summary>
    public static IEnumerable<object> Of(Metric metric) => metric.DataCase switch
    {
        Metric.DataOneofCase.Gauge => metric.Gauge.DataPoints,
        Metric.DataOneofCase.Sum => metric.Sum.DataPoints,
        Metric.DataOneofCase.Histogram => metric.Histogram.DataPoints,
        Metric.DataOneofCase.ExponentialHistogram => metric.ExponentialHistogram.DataPoints,
        Metric.DataOneofCase.Summary => metric.Summary.DataPoints,
        _ => [],
    };

    /// <summary>Moves the first <paramref name="count"/> points into a new metric with the same identity.</summary>
    public static Metric SplitOff(Metric metric, int count)
    {
        var head = EmptyLike(metric);
        switch (metric.DataCase)
        {
            case Metric.DataOneofCase.Gauge: Move(metric.Gauge.DataPoints, head.Gauge.DataPoints, count); break;
            case Metric.DataOneofCase.Sum: Move(metric.Sum.DataPoints, head.Sum.DataPoints, count); break;
            case Metric.DataOneofCase.Histogram: Move(metric.Histogram.DataPoints, head.Histogram.DataPoints, count); break;
            case Metric.DataOneofCase.ExponentialHistogram: Move(metric.ExponentialHistogram.DataPoints, head.ExponentialHistogram.DataPoints, count); break;
            case Metric.DataOneofCase.Summary: Move(metric.Summary.DataPoints, head.Summary.DataPoints, count); break;
        }
        return head;
    }

    /// <summary>A new metric with the identity of <paramref name="metric"/> and a copy of one of its points.</summary>
    public static Metric WithOnly(Metric metric, object point)
    {
        var copy = EmptyLike(metric);
        switch (point)
        {
            case NumberDataPoint number when copy.DataCase == Metric.DataOneofCase.Gauge: copy.Gauge.DataPoints.Add(number.Clone()); break;
            case NumberDataPoint number: copy.Sum.DataPoints.Add(number.Clone()); break;
            case HistogramDataPoint histogram: copy.Histogram.DataPoints.Add(histogram.Clone()); break;
            case ExponentialHistogramDataPoint exponential: copy.ExponentialHistogram.DataPoints.Add(exponential.Clone()); break;
            case SummaryDataPoint summary: copy.Summary.DataPoints.Add(summary.Clone()); break;
        }
        return copy;
    }

    /// <summary>A metric with the same name, description, unit, metadata and type settings, and no points.</summary>
    private static Metric EmptyLike(Metric metric)
    {
        var head = new Metric { Name = metric.Name, Description = metric.Description, Unit = metric.Unit };
        head.Metadata.Add(metric.Metadata);
        switch (metric.DataCase)
        {
            case Metric.DataOneofCase.Gauge: head.Gauge = new Gauge(); break;
            case Metric.DataOneofCase.Sum: head.Sum = new Sum { AggregationTemporality = metric.Sum.AggregationTemporality, IsMonotonic = metric.Sum.IsMonotonic }; break;
            case Metric.DataOneofCase.Histogram: head.Histogram = new Histogram { AggregationTemporality = metric.Histogram.AggregationTemporality }; break;
            case Metric.DataOneofCase.ExponentialHistogram: head.ExponentialHistogram = new ExponentialHistogram { AggregationTemporality = metric.ExponentialHistogram.AggregationTemporality }; break;
            case Metric.DataOneofCase.Summary: head.Summary = new Summary(); break;
        }
        return head;
    }

    private static void Move<TPoint>(RepeatedField<TPoint> from, RepeatedField<TPoint> to, int count)
    {
        count = Math.Min(count, from.Count);
        for (var i = 0; i < count; i++) to.Add(from[i]);
        ResourceSplitter.RemoveFirst(from, count);
    }
}
