using System.Text;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Metrics.V1;

namespace OtelAi.Processors.Common;

/// <summary>
/// The series of one metric derived from spans (spanmetrics, genai_metrics): a count or a distribution per
/// attribute set, with otelcol's cardinality overflow (beyond the limit, new attribute sets share one series marked
/// <c>otel.metric.overflow=true</c>), expiry of series not updated, and the OTLP metric written at each flush.
/// Not thread-safe: the connector that owns it serialises access.
/// </summary>
internal sealed class MetricSeriesTable(int cardinalityLimit)
{
    private const string OverflowAttribute = "otel.metric.overflow";
    private readonly Dictionary<string, Series> _series = new(StringComparer.Ordinal);

    internal sealed class Series(KeyValue[] attributes, ulong startUnixNano)
    {
        public KeyValue[] Attributes { get; } = attributes;
        public ulong StartUnixNano { get; } = startUnixNano;
        public double Count { get; set; }
        public DurationHistogram? Histogram { get; set; }
        public List<Exemplar> Exemplars { get; } = [];
        public long LastSeen { get; set; }
    }

    public int Count => _series.Count;

    /// <summary>The series of these attributes (created with <paramref name="startUnixNano"/>), or the overflow series once the limit is reached.</summary>
    public Series Lookup(IReadOnlyList<KeyValue> attributes, ulong startUnixNano, long nowTicks)
    {
        var key = new StringBuilder();
        foreach (var attribute in attributes) key.Append(attribute.Key).Append('\u0000').Append(attribute.Value.AsString()).Append('\u0001');
        var keyText = key.ToString();
        if (!_series.TryGetValue(keyText, out var series))
        {
            if (cardinalityLimit > 0 && _series.Count >= cardinalityLimit)
            {
                keyText = OverflowAttribute;
                attributes = [new KeyValue { Key = OverflowAttribute, Value = new AnyValue { BoolValue = true } }];
            }
            if (!_series.TryGetValue(keyText, out series))
                _series[keyText] = series = new Series([.. attributes], startUnixNano);
        }
        series.LastSeen = nowTicks;
        return series;
    }

    /// <summary>Drops series last updated before <paramref name="cutoffTicks"/>.</summary>
    public void RemoveOlderThan(long cutoffTicks)
    {
        foreach (var (key, series) in _series.ToList())
            if (series.LastSeen < cutoffTicks) _series.Remove(key);
    }

    /// <summary>Forgets every series (delta temporality, after a flush).</summary>
    public void Clear() => _series.Clear();

    /// <summary>The counts as a sum (integers where whole); exemplars are handed over and cleared; null when empty.</summary>
    public Metric? ToSum(string name, string unit, string description, AggregationTemporality temporality, ulong nowUnixNano, bool monotonic = true)
    {
        if (_series.Count == 0) return null;
        var sum = new Sum { IsMonotonic = monotonic, AggregationTemporality = temporality };
        foreach (var series in _series.Values)
        {
            var point = new NumberDataPoint { StartTimeUnixNano = series.StartUnixNano, TimeUnixNano = nowUnixNano };
            if (series.Count == Math.Floor(series.Count) && Math.Abs(series.Count) < long.MaxValue) point.AsInt = (long)series.Count;
            else point.AsDouble = series.Count;
            point.Attributes.Add(series.Attributes.Select(a => a.Clone()));
            point.Exemplars.Add(series.Exemplars);
            series.Exemplars.Clear();
            sum.DataPoints.Add(point);
        }
        return new Metric { Name = name, Unit = unit, Description = description, Sum = sum };
    }

    /// <summary>The distributions as an explicit or exponential histogram (whichever the series hold); null when empty.</summary>
    public Metric? ToHistogram(string name, string unit, string description, AggregationTemporality temporality, ulong nowUnixNano)
    {
        var metric = new Metric { Name = name, Unit = unit, Description = description };
        foreach (var series in _series.Values)
        {
            switch (series.Histogram)
            {
                case ExponentialDurationHistogram exponential:
                    {
                        metric.ExponentialHistogram ??= new ExponentialHistogram { AggregationTemporality = temporality };
                        var point = exponential.ToPoint();
                        point.StartTimeUnixNano = series.StartUnixNano;
                        point.TimeUnixNano = nowUnixNano;
                        point.Attributes.Add(series.Attributes.Select(a => a.Clone()));
                        point.Exemplars.Add(series.Exemplars);
                        metric.ExponentialHistogram.DataPoints.Add(point);
                        break;
                    }
                case ExplicitDurationHistogram explicitHistogram:
                    {
                        metric.Histogram ??= new Histogram { AggregationTemporality = temporality };
                        var point = explicitHistogram.ToPoint();
                        point.StartTimeUnixNano = series.StartUnixNano;
                        point.TimeUnixNano = nowUnixNano;
                        point.Attributes.Add(series.Attributes.Select(a => a.Clone()));
                        point.Exemplars.Add(series.Exemplars);
                        metric.Histogram.DataPoints.Add(point);
                        break;
                    }
            }
            series.Exemplars.Clear();
        }
        return metric.DataCase == Metric.DataOneofCase.None ? null : metric;
    }
}
