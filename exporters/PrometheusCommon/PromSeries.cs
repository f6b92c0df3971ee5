namespace OtelAi.Exporters.PrometheusCommon;

/// <summary>A label of a Prometheus series.</summary>
internal readonly record struct PromLabel(string Name, string Value);

/// <summary>An exemplar of a counter or histogram bucket: the span it was measured in.</summary>
internal readonly record struct PromExemplar(double Value, long TimeUnixNano, string TraceId, string SpanId);

/// <summary>
/// The identity of a series within its family: its sorted labels, compared by value, with the hash computed once.
/// It shares the label strings with the series, so a stored series costs no second copy of its labels.
/// </summary>
internal readonly struct SeriesKey : IEquatable<SeriesKey>, IComparable<SeriesKey>
{
    private readonly PromLabel[] _labels;
    private readonly int _hash;

    public SeriesKey(PromLabel[] labels)
    {
        _labels = labels;
        var hash = new HashCode();
        foreach (var label in labels)
        {
            hash.Add(label.Name, StringComparer.Ordinal);
            hash.Add(label.Value, StringComparer.Ordinal);
        }
        _hash = hash.ToHashCode();
    }

    public bool Equals(SeriesKey other)
    {
        if (_hash != other._hash || _labels.Length != other._labels.Length) return false;
        for (var i = 0; i < _labels.Length; i++)
            if (!string.Equals(_labels[i].Name, other._labels[i].Name, StringComparison.Ordinal) || !string.Equals(_labels[i].Value, other._labels[i].Value, StringComparison.Ordinal))
                return false;
        return true;
    }

    public override bool Equals(object? obj) => obj is SeriesKey other && Equals(other);

    public override int GetHashCode() => _hash;

    /// <summary>Label by label, name then value, ordinal: a stable order for the exposition.</summary>
    public int CompareTo(SeriesKey other)
    {
        for (var i = 0; i < Math.Min(_labels.Length, other._labels.Length); i++)
        {
            var byName = string.CompareOrdinal(_labels[i].Name, other._labels[i].Name);
            if (byName != 0) return byName;
            var byValue = string.CompareOrdinal(_labels[i].Value, other._labels[i].Value);
            if (byValue != 0) return byValue;
        }
        return _labels.Length.CompareTo(other._labels.Length);
    }
}

/// <summary>What a family of series shares: name, type, help text and unit (the OTLP metric's).</summary>
internal sealed record PromFamily(string Name, PromType Type, string Help, string Unit);

/// <summary>
/// One Prometheus series in its latest state: a translated OTLP data point, or the cumulative sum of the delta
/// points seen so far. Histograms hold per-bucket counts (the exposition makes them cumulative); exponential
/// histograms arrive here already as explicit buckets.
/// </summary>
internal sealed class PromSeries
{
    public required PromFamily Family { get; init; }

    /// <summary>Sorted by name; without __name__.</summary>
    public required PromLabel[] Labels { get; init; }

    private SeriesKey? _key;

    /// <summary>The identity of the series within its family, for maps (computed once).</summary>
    public SeriesKey Key => _key ??= new SeriesKey(Labels);

    /// <summary>True when the point is a delta: it adds to the series instead of replacing it.</summary>
    public bool IsDelta { get; init; }

    /// <summary>The point said it has no recorded value (OTLP's NoRecordedValue flag): the series went stale.</summary>
    public bool NoRecordedValue { get; init; }

    public long StartTimeUnixNano { get; set; }

    public long TimeUnixNano { get; set; }

    /// <summary>Counter or gauge value.</summary>
    public double Value { get; set; }

    /// <summary>Histogram upper bounds (without +Inf).</summary>
    public double[] Bounds { get; set; } = [];

    /// <summary>Histogram counts per bucket, one more than <see cref="Bounds"/> (the last is the +Inf bucket).</summary>
    public ulong[] BucketCounts { get; set; } = [];

    public double Sum { get; set; }

    public ulong Count { get; set; }

    public (double Quantile, double Value)[] Quantiles { get; set; } = [];

    /// <summary>Exemplars of the latest point (at most one per bucket for histograms, else one).</summary>
    public PromExemplar[] Exemplars { get; set; } = [];

    /// <summary>Set under the series' lock when the store removes it; a point folded in later starts the series again.</summary>
    public bool Retired { get; set; }

    /// <summary>When this series last received a point, by the exporter's clock (for metric_expiration).</summary>
    public long UpdatedTicks { get; set; }

    /// <summary>
    /// Folds a newer point of the same series into this one: a delta adds (histograms add per bucket when the bounds
    /// match; changed bounds start over from the new point), a cumulative point or gauge replaces. Points older
    /// than the series' latest are ignored, as a scrape can only show one value per series, and so is a delta that
    /// ends when the latest did, which makes folding a retried request in again harmless.
    /// </summary>
    public void Apply(PromSeries point)
    {
        if (point.TimeUnixNano < TimeUnixNano) return;
        // A delta ending when the series' latest did is that delta again (a retried request): counted already.
        if (point.IsDelta && point.TimeUnixNano == TimeUnixNano && Family.Type != PromType.Summary) return;
        if (!point.IsDelta || !Accumulate(point)) Replace(point);
        TimeUnixNano = point.TimeUnixNano;
        UpdatedTicks = point.UpdatedTicks;
    }

    private bool Accumulate(PromSeries point)
    {
        switch (Family.Type)
        {
            case PromType.Histogram:
                if (!Bounds.AsSpan().SequenceEqual(point.Bounds)) return false;
                var counts = (ulong[])BucketCounts.Clone();
                for (var i = 0; i < counts.Length; i++) counts[i] += point.BucketCounts[i];
                BucketCounts = counts;
                Sum += point.Sum;
                Count += point.Count;
                break;
            case PromType.Counter or PromType.Gauge:
                Value += point.Value;
                break;
            default:
                return false;
        }
        if (point.Exemplars.Length > 0) Exemplars = point.Exemplars;
        return true;
    }

    private void Replace(PromSeries point)
    {
        StartTimeUnixNano = point.StartTimeUnixNano;
        Value = point.Value;
        Bounds = point.Bounds;
        BucketCounts = point.BucketCounts;
        Sum = point.Sum;
        Count = point.Count;
        Quantiles = point.Quantiles;
        Exemplars = point.Exemplars;
    }

    /// <summary>A copy of the state for writing it out while new points keep arriving (arrays are never changed in place).</summary>
    public PromSeries Snapshot() => (PromSeries)MemberwiseClone();
}
