using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Metrics.V1;
using OtelAi.Otlp.Proto.Resource.V1;

namespace OtelAi.Engine.SelfTelemetry;

/// <summary>
/// The engine's own metrics (otelcol_* names), exposed in Prometheus text format. Components look a
/// counter up once at creation and then only add to it: the per-item path is one interlocked add.
/// </summary>
public sealed class MetricRegistry
{
    private readonly ConcurrentDictionary<string, Family> _families = new();

    /// <summary>The counter series of a declared metric with these label values (keys as declared, any order).</summary>
    public Counter Counter(SelfMetric metric, params (string Key, string Value)[] labels) =>
        (Counter)GetFamily(metric, SelfMetricKind.Counter, labels).Add(labels, () => new Counter());

    /// <summary>The histogram series of a declared histogram with these label values.</summary>
    public Histogram Histogram(SelfMetric metric, params (string Key, string Value)[] labels) =>
        (Histogram)GetFamily(metric, SelfMetricKind.Histogram, labels).Add(labels, () => new Histogram(metric.Buckets));

    /// <summary>Registers a gauge series read at scrape time; registering the same series again replaces the reader.</summary>
    public void Gauge(SelfMetric metric, Func<double> read, params (string Key, string Value)[] labels) =>
        GetFamily(metric, SelfMetricKind.Gauge, labels).Replace(labels, new GaugeReader(read));

    /// <summary>The declarations of every metric registered so far (the conformance test compares them with factory metadata).</summary>
    public IReadOnlyList<SelfMetric> Registered => _families.Values.Select(f => f.Metric).ToList();

    /// <summary>Current value of one series (tests and the service's own checks), or null when absent.</summary>
    public double? Read(string name, params (string Key, string Value)[] labels) =>
        _families.TryGetValue(name, out var family) && family.Series.TryGetValue(LabelText(labels), out var series)
            ? series.Value
            : null;

    /// <summary>Sum of a metric over every series whose labels include all of <paramref name="labels"/>.</summary>
    public double Sum(string name, params (string Key, string Value)[] labels)
    {
        if (!_families.TryGetValue(name, out var family)) return 0;
        var parts = labels.Select(l => LabelText([l])).ToArray();
        return family.Series.Where(s => parts.All(p => s.Key.Contains(p, StringComparison.Ordinal))).Sum(s => s.Value.Value);
    }

    /// <summary>Count and sum of a histogram over every series whose labels include all of <paramref name="labels"/>.</summary>
    public (double Count, double Sum) HistogramTotals(string name, params (string Key, string Value)[] labels)
    {
        if (!_families.TryGetValue(name, out var family)) return (0, 0);
        var parts = labels.Select(l => LabelText([l])).ToArray();
        double count = 0, sum = 0;
        foreach (var (key, series) in family.Series)
            if (series is Histogram histogram && parts.All(p => key.Contains(p, StringComparison.Ordinal)))
            {
                count += histogram.Value;
                sum += histogram.Sum;
            }
        return (count, sum);
    }

    /// <summary>Prometheus text exposition format 0.0.4; counters get the <c>_total</c> suffix.</summary>
    /// <param name="constantLabels">Labels every series gets after its own (otelcol's service_name, service_instance_id, service_version).</param>
    public void WritePrometheusText(TextWriter writer, IReadOnlyList<(string Key, string Value)>? constantLabels = null)
    {
        var constant = constantLabels is { Count: > 0 } ? LabelText([.. constantLabels]) : "";
        foreach (var (name, family) in _families.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            var exposed = family.Metric.Kind == SelfMetricKind.Counter ? name + "_total" : name;
            writer.Write($"# HELP {exposed} {family.Metric.Description}\n");
            writer.Write($"# TYPE {exposed} {family.Metric.Kind.ToString().ToLowerInvariant()}\n");
            foreach (var (own, series) in family.Series.OrderBy(s => s.Key, StringComparer.Ordinal))
            {
                var labels = constant.Length == 0 ? own : own.Length == 0 ? constant : $"{own},{constant}";
                if (series is Histogram histogram)
                {
                    histogram.Write(writer, name, labels);
                    continue;
                }
                writer.Write(exposed);
                if (labels.Length > 0) writer.Write($"{{{labels}}}");
                writer.Write(' ');
                writer.Write(series.Value.ToString(CultureInfo.InvariantCulture));
                writer.Write('\n');
            }
        }
    }

    private Family GetFamily(SelfMetric metric, SelfMetricKind kind, (string Key, string Value)[] labels)
    {
        if (metric.Kind != kind) throw new InvalidOperationException($"metric {metric.Name} is declared as a {metric.Kind}");
        if (labels.Length != metric.Labels.Length || labels.Any(l => !metric.Labels.Contains(l.Key)))
            throw new InvalidOperationException($"metric {metric.Name} declares labels [{string.Join(", ", metric.Labels)}], got [{string.Join(", ", labels.Select(l => l.Key))}]");
        var family = _families.GetOrAdd(metric.Name, _ => new Family(metric));
        if (family.Metric != metric) throw new InvalidOperationException($"metric {metric.Name} is already registered with another declaration");
        return family;
    }

    private static string LabelText((string Key, string Value)[] labels)
    {
        if (labels.Length == 0) return "";
        var sb = new StringBuilder();
        foreach (var (key, value) in labels.OrderBy(l => l.Key, StringComparer.Ordinal))
        {
            if (sb.Length > 0) sb.Append(',');
            sb.Append(key).Append("=\"")
                .Append(value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n"))
                .Append('"');
        }
        return sb.ToString();
    }

    private sealed record Family(SelfMetric Metric)
    {
        public ConcurrentDictionary<string, ISeries> Series { get; } = new(StringComparer.Ordinal);

        /// <summary>Each series' label pairs, by its label text (for OTLP, which wants them apart).</summary>
        public ConcurrentDictionary<string, (string Key, string Value)[]> Labels { get; } = new(StringComparer.Ordinal);

        public ISeries Add((string Key, string Value)[] labels, Func<ISeries> create)
        {
            var text = LabelText(labels);
            if (Series.TryGetValue(text, out var known)) return known;
            Labels.TryAdd(text, labels);
            return Series.GetOrAdd(text, _ => create());
        }

        public void Replace((string Key, string Value)[] labels, ISeries series)
        {
            var text = LabelText(labels);
            Labels.TryAdd(text, labels);
            Series[text] = series;
        }
    }

    /// <summary>
    /// Every series as OTLP, as otelcol's periodic readers push them: counters as cumulative monotonic sums,
    /// gauges, histograms as cumulative explicit-bucket histograms; one scope, the given resource attributes.
    /// </summary>
    public ExportMetricsServiceRequest ToOtlp(IEnumerable<(string Key, string Value)> resource, DateTimeOffset start, DateTimeOffset now)
    {
        var startNanos = (ulong)(start - DateTimeOffset.UnixEpoch).Ticks * 100;
        var nowNanos = (ulong)(now - DateTimeOffset.UnixEpoch).Ticks * 100;
        var scope = new ScopeMetrics { Scope = new InstrumentationScope { Name = "otelai" } };
        foreach (var (name, family) in _families.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            var metric = new Metric { Name = name, Description = family.Metric.Description };
            foreach (var (text, series) in family.Series.OrderBy(s => s.Key, StringComparer.Ordinal))
            {
                var attributes = family.Labels.TryGetValue(text, out var labels)
                    ? labels.Select(l => new KeyValue { Key = l.Key, Value = new AnyValue { StringValue = l.Value } })
                    : [];
                switch (series)
                {
                    case Counter counter:
                        metric.Sum ??= new Sum { IsMonotonic = true, AggregationTemporality = AggregationTemporality.Cumulative };
                        metric.Sum.DataPoints.Add(new NumberDataPoint { StartTimeUnixNano = startNanos, TimeUnixNano = nowNanos, AsInt = counter.Count, Attributes = { attributes } });
                        break;
                    case Histogram histogram:
                        metric.Histogram ??= new Otlp.Proto.Metrics.V1.Histogram { AggregationTemporality = AggregationTemporality.Cumulative };
                        metric.Histogram.DataPoints.Add(histogram.ToOtlp(startNanos, nowNanos, attributes));
                        break;
                    default:
                        metric.Gauge ??= new Gauge();
                        metric.Gauge.DataPoints.Add(new NumberDataPoint { TimeUnixNano = nowNanos, AsDouble = series.Value, Attributes = { attributes } });
                        break;
                }
            }
            if (metric.DataCase != Metric.DataOneofCase.None) scope.Metrics.Add(metric);
        }
        var resourceAttributes = new Resource();
        foreach (var (key, value) in resource) resourceAttributes.Attributes.Add(new KeyValue { Key = key, Value = new AnyValue { StringValue = value } });
        return new ExportMetricsServiceRequest { ResourceMetrics = { new ResourceMetrics { Resource = resourceAttributes, ScopeMetrics = { scope } } } };
    }
}

public interface ISeries
{
    double Value { get; }
}

public sealed class Counter : ISeries
{
    private long _value;

    public void Add(long amount) => Interlocked.Add(ref _value, amount);

    public long Count => Interlocked.Read(ref _value);

    double ISeries.Value => Count;
}

/// <summary>A histogram series: counts per bucket, sum and count, each updated with one interlocked operation.</summary>
public sealed class Histogram : ISeries
{
    private readonly double[] _bounds;
    private readonly long[] _counts;
    private long _sumBits;
    private long _count;

    internal Histogram(double[] bounds)
    {
        _bounds = bounds;
        _counts = new long[bounds.Length + 1];
    }

    public void Record(double value)
    {
        var bucket = Array.BinarySearch(_bounds, value);
        Interlocked.Increment(ref _counts[bucket < 0 ? ~bucket : bucket]);
        Interlocked.Increment(ref _count);
        long seen, updated;
        do
        {
            seen = Interlocked.Read(ref _sumBits);
            updated = BitConverter.DoubleToInt64Bits(BitConverter.Int64BitsToDouble(seen) + value);
        }
        while (Interlocked.CompareExchange(ref _sumBits, updated, seen) != seen);
    }

    /// <summary>The number of values recorded.</summary>
    public double Value => Interlocked.Read(ref _count);

    public double Sum => BitConverter.Int64BitsToDouble(Interlocked.Read(ref _sumBits));

    /// <summary>Cumulative <c>_bucket</c> lines (with <c>le</c>), then <c>_sum</c> and <c>_count</c>.</summary>
    internal void Write(TextWriter writer, string name, string labels)
    {
        var prefix = labels.Length > 0 ? labels + "," : "";
        long cumulative = 0;
        for (var i = 0; i <= _bounds.Length; i++)
        {
            cumulative += Interlocked.Read(ref _counts[i]);
            var le = i < _bounds.Length ? _bounds[i].ToString(CultureInfo.InvariantCulture) : "+Inf";
            writer.Write($"{name}_bucket{{{prefix}le=\"{le}\"}} {cumulative}\n");
        }
        var suffix = labels.Length > 0 ? $"{{{labels}}}" : "";
        writer.Write($"{name}_sum{suffix} {Sum.ToString(CultureInfo.InvariantCulture)}\n");
        writer.Write($"{name}_count{suffix} {Value.ToString(CultureInfo.InvariantCulture)}\n");
    }

    /// <summary>The series as an OTLP data point (per-bucket counts, not cumulative as in Prometheus).</summary>
    internal HistogramDataPoint ToOtlp(ulong startNanos, ulong nowNanos, IEnumerable<KeyValue> attributes)
    {
        var point = new HistogramDataPoint { StartTimeUnixNano = startNanos, TimeUnixNano = nowNanos, Sum = Sum, ExplicitBounds = { _bounds }, Attributes = { attributes } };
        long count = 0;
        foreach (ref var bucket in _counts.AsSpan())
        {
            var n = Interlocked.Read(ref bucket);
            point.BucketCounts.Add((ulong)n);
            count += n;
        }
        point.Count = (ulong)count; // the buckets' total, so count and buckets agree even while values arrive
        return point;
    }
}

internal sealed class GaugeReader(Func<double> read) : ISeries
{
    public double Value => read();
}
