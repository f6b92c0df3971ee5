using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

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
        (Counter)GetFamily(metric, SelfMetricKind.Counter, labels).Series.GetOrAdd(LabelText(labels), _ => new Counter());

    /// <summary>The histogram series of a declared histogram with these label values.</summary>
    public Histogram Histogram(SelfMetric metric, params (string Key, string Value)[] labels) =>
        (Histogram)GetFamily(metric, SelfMetricKind.Histogram, labels).Series.GetOrAdd(LabelText(labels), _ => new Histogram(metric.Buckets));

    /// <summary>Registers a gauge series read at scrape time; registering the same series again replaces the reader.</summary>
    public void Gauge(SelfMetric metric, Func<double> read, params (string Key, string Value)[] labels) =>
        GetFamily(metric, SelfMetricKind.Gauge, labels).Series[LabelText(labels)] = new GaugeReader(read);

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
}

internal sealed class GaugeReader(Func<double> read) : ISeries
{
    public double Value => read();
}
