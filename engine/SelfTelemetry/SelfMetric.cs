using OtelAi.Otlp;

namespace OtelAi.Engine.SelfTelemetry;

public enum SelfMetricKind { Counter, Gauge, Histogram }

/// <summary>
/// One self-metric as a component declares it in its factory: name (without Prometheus' <c>_total</c>), kind,
/// description and label keys. Registering a series goes through this declaration, so what a component emits and
/// what its metadata (<c>otelai components</c>, the README list) says cannot drift apart.
/// </summary>
public sealed record SelfMetric(string Name, SelfMetricKind Kind, string Description, params string[] Labels)
{
    public static SelfMetric Counter(string name, string description, params string[] labels) => new(name, SelfMetricKind.Counter, description, labels);

    public static SelfMetric Gauge(string name, string description, params string[] labels) => new(name, SelfMetricKind.Gauge, description, labels);

    /// <summary>A histogram with these upper bucket bounds (ascending; +Inf is implied).</summary>
    public static SelfMetric Histogram(string name, string description, double[] buckets, params string[] labels) =>
        new(name, SelfMetricKind.Histogram, description, labels) { Buckets = buckets };

    /// <summary>A histogram's upper bucket bounds.</summary>
    public double[] Buckets { get; init; } = [];

    /// <summary>The metric of one signal, from a name and description holding <c>{items}</c> (spans, metric_points, log_records).</summary>
    public static SelfMetric ForSignal(Signal signal, SelfMetricKind kind, string nameTemplate, string descriptionTemplate, params string[] labels) =>
        new(nameTemplate.Replace("{items}", signal.ItemName()), kind, descriptionTemplate.Replace("{items}", signal.ItemName().Replace('_', ' ')), labels);

    public bool Equals(SelfMetric? other) =>
        other is not null && Name == other.Name && Kind == other.Kind && Description == other.Description && Labels.SequenceEqual(other.Labels);

    public override int GetHashCode() => HashCode.Combine(Name, Kind);

    public override string ToString() => $"{Name} ({Kind.ToString().ToLowerInvariant()}; {string.Join(", ", Labels)})";
}
