using OtelAi.Otlp.Proto.Metrics.V1;

namespace OtelAi.Processors.Anomaly;

/// <summary>
/// Turns histogram data points into weighted values for a window. A cumulative point gives the observations since
/// its stream's previous point (PromQL's increase(): the first point of a stream only sets the start, a reset starts
/// over); a delta point gives its own. Each bucket's count is spread evenly over the bucket, as histogram_quantile()
/// assumes, so a window's p95 is the p95 of every observation in it, whatever the scrape or export interval.
/// </summary>
internal sealed class HistogramIncrements(int maxStreams)
{
    /// <summary>Values each bucket's count is spread over (at the centres of equal parts of the bucket).</summary>
    private const int SpreadPoints = 4;

    private readonly Dictionary<string, Previous> _previous = new(StringComparer.Ordinal);

    private sealed class Previous(ulong startTime, ulong[] counts, long step)
    {
        public ulong StartTime = startTime;
        public ulong[] Counts = counts;
        public long Step = step;
    }

    /// <summary>The bucket counts observed since the stream's previous point, or null when there is nothing to add yet.</summary>
    public ulong[]? Increment(string stream, HistogramDataPoint point, AggregationTemporality temporality, long step, out bool refused)
    {
        refused = false;
        var counts = point.BucketCounts.ToArray();
        if (temporality == AggregationTemporality.Delta) return counts;
        if (!_previous.TryGetValue(stream, out var previous))
        {
            if (_previous.Count >= maxStreams)
            {
                refused = true;
                return null;
            }
            _previous[stream] = new Previous(point.StartTimeUnixNano, counts, step);
            return null;
        }
        var reset = previous.StartTime != point.StartTimeUnixNano || previous.Counts.Length != counts.Length
            || counts.Where((count, i) => count < previous.Counts[i]).Any();
        var increment = reset ? counts : counts.Select((count, i) => count - previous.Counts[i]).ToArray();
        (previous.StartTime, previous.Counts, previous.Step) = (point.StartTimeUnixNano, counts, step);
        return increment;
    }

    /// <summary>Forgets streams not seen since <paramref name="oldestStep"/>.</summary>
    public void Forget(long oldestStep)
    {
        foreach (var (stream, previous) in _previous)
            if (previous.Step < oldestStep) _previous.Remove(stream);
    }

    /// <summary>
    /// The values and weights that stand for <paramref name="counts"/> over explicit bounds. As in
    /// histogram_quantile(), the first bucket starts at 0 when its bound is positive and the +Inf bucket sits at the
    /// highest bound; a point's min and max, when set, narrow the outer buckets.
    /// </summary>
    public static IEnumerable<(double Value, double Weight)> Spread(IReadOnlyList<double> bounds, ulong[] counts, double? min, double? max)
    {
        for (var i = 0; i < counts.Length; i++)
        {
            if (counts[i] == 0) continue;
            double lower, upper;
            if (bounds.Count == 0) (lower, upper) = (min ?? 0, max ?? min ?? 0);
            else if (i == 0) (lower, upper) = (bounds[0] > 0 ? 0 : bounds[0], bounds[0]);
            else if (i >= bounds.Count) (lower, upper) = (bounds[^1], bounds[^1]);
            else (lower, upper) = (bounds[i - 1], bounds[i]);
            if (min is { } low) lower = Math.Min(Math.Max(lower, low), upper);
            if (max is { } high) upper = i >= bounds.Count ? Math.Max(upper, high) : Math.Max(Math.Min(upper, high), lower);
            var weight = counts[i] / (double)SpreadPoints;
            for (var part = 0; part < SpreadPoints; part++) yield return (lower + (upper - lower) * (part + 0.5) / SpreadPoints, weight);
        }
    }
}
