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

    public Counter Counter(string name, string description, params (string Key, string Value)[] labels) =>
        (Counter)GetFamily(name, description, MetricType.Counter).Series.GetOrAdd(LabelText(labels), _ => new Counter());

    /// <summary>Registers a gauge read at scrape time; registering the same series again replaces the reader.</summary>
    public void Gauge(string name, string description, Func<double> read, params (string Key, string Value)[] labels) =>
        GetFamily(name, description, MetricType.Gauge).Series[LabelText(labels)] = new GaugeReader(read);

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
    public void WritePrometheusText(TextWriter writer)
    {
        foreach (var (name, family) in _families.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            var exposed = family.Type == MetricType.Counter ? name + "_total" : name;
            writer.Write($"# HELP {exposed} {family.Description}\n");
            writer.Write($"# TYPE {exposed} {(family.Type == MetricType.Counter ? "counter" : "gauge")}\n");
            foreach (var (labels, series) in family.Series.OrderBy(s => s.Key, StringComparer.Ordinal))
            {
                writer.Write(exposed);
                if (labels.Length > 0) writer.Write($"{{{labels}}}");
                writer.Write(' ');
                writer.Write(series.Value.ToString(CultureInfo.InvariantCulture));
                writer.Write('\n');
            }
        }
    }

    private Family GetFamily(string name, string description, MetricType type)
    {
        var family = _families.GetOrAdd(name, _ => new Family(description, type));
        if (family.Type != type) throw new InvalidOperationException($"metric {name} is already registered as a {family.Type}");
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

    private enum MetricType { Counter, Gauge }

    private sealed record Family(string Description, MetricType Type)
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

internal sealed class GaugeReader(Func<double> read) : ISeries
{
    public double Value => read();
}
