using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Metrics.V1;

namespace OtelAi.Receivers.Prometheus;

/// <summary>
/// Turns the families of one scrape into OTLP metrics, as otelcol's prometheus receiver does: counters become
/// monotonic cumulative sums, gauges and untyped metrics gauges, histograms explicit-bucket histograms (cumulative
/// bucket counts turned into per-bucket counts), summaries summaries, info and stateset non-monotonic sums. Labels
/// become point attributes (job and instance are the resource's). Cumulative series get a start time: the
/// OpenMetrics _created sample, else when the series was first seen, renewed when its value drops (a reset).
/// </summary>
internal sealed class ScrapeConverter(bool trimSuffixes)
{
    private Dictionary<string, (ulong Start, double Last)> _starts = new(StringComparer.Ordinal);
    private Dictionary<string, (ulong Start, double Last)> _seen = new(StringComparer.Ordinal);

    /// <summary>A relabeled sample of a family: its attributes (without job, instance, le, quantile) and the distinguishing label.</summary>
    internal sealed record Sample(string Name, Dictionary<string, string> Labels, double Value, ulong TimeUnixNano, ScrapedExemplar? Exemplar);

    public List<Metric> Convert(IEnumerable<(ScrapedFamily Family, List<Sample> Samples)> families)
    {
        _seen = new Dictionary<string, (ulong, double)>(_starts.Count, StringComparer.Ordinal);
        var metrics = new List<Metric>();
        foreach (var (family, samples) in families)
        {
            if (samples.Count == 0) continue;
            var metric = family.Type switch
            {
                ScrapedType.Counter => Counter(family, samples),
                ScrapedType.Histogram => Histogram(family, samples),
                ScrapedType.Summary => Summary(family, samples),
                ScrapedType.Info or ScrapedType.StateSet => NonMonotonicSum(family, samples),
                _ => Gauge(family, samples),
            };
            if (metric is not null) metrics.Add(metric);
        }
        _starts = _seen; // series not seen in this scrape are forgotten
        return metrics;
    }

    private Metric NewMetric(ScrapedFamily family, string? name = null)
    {
        var metricName = name ?? family.Name;
        if (trimSuffixes) metricName = Trim(metricName, family.Unit);
        return new Metric { Name = metricName, Description = family.Help, Unit = family.Unit };
    }

    private static string Trim(string name, string unit)
    {
        foreach (var suffix in new[] { "_total", "_info", unit.Length > 0 ? "_" + unit : "", "_ratio" })
            if (suffix.Length > 0 && name.EndsWith(suffix, StringComparison.Ordinal) && name.Length > suffix.Length) name = name[..^suffix.Length];
        return name;
    }

    private Metric Gauge(ScrapedFamily family, List<Sample> samples)
    {
        var metric = NewMetric(family, samples[0].Name);
        metric.Gauge = new Gauge();
        foreach (var sample in samples)
        {
            var point = new NumberDataPoint { TimeUnixNano = sample.TimeUnixNano, AsDouble = sample.Value };
            AddAttributes(point.Attributes, sample.Labels);
            metric.Gauge.DataPoints.Add(point);
        }
        return metric;
    }

    private Metric? Counter(ScrapedFamily family, List<Sample> samples)
    {
        var created = Created(samples);
        var values = samples.Where(s => !s.Name.EndsWith("_created", StringComparison.Ordinal)).ToList();
        if (values.Count == 0) return null;
        var metric = NewMetric(family, values[0].Name.EndsWith("_total", StringComparison.Ordinal) && !family.Name.EndsWith("_total", StringComparison.Ordinal) ? values[0].Name : family.Name);
        metric.Sum = new Sum { IsMonotonic = true, AggregationTemporality = AggregationTemporality.Cumulative };
        foreach (var sample in values)
        {
            var key = family.Name + Key(sample.Labels);
            var point = new NumberDataPoint { TimeUnixNano = sample.TimeUnixNano, AsDouble = sample.Value, StartTimeUnixNano = Start(key, sample.Value, sample.TimeUnixNano, created.GetValueOrDefault(Key(sample.Labels))) };
            AddAttributes(point.Attributes, sample.Labels);
            AddExemplar(point.Exemplars, sample.Exemplar, sample.TimeUnixNano);
            metric.Sum.DataPoints.Add(point);
        }
        return metric;
    }

    private Metric NonMonotonicSum(ScrapedFamily family, List<Sample> samples)
    {
        var metric = NewMetric(family, family.Type == ScrapedType.Info && !family.Name.EndsWith("_info", StringComparison.Ordinal) ? family.Name + "_info" : null);
        metric.Sum = new Sum { IsMonotonic = false, AggregationTemporality = AggregationTemporality.Cumulative };
        foreach (var sample in samples)
        {
            var point = new NumberDataPoint { TimeUnixNano = sample.TimeUnixNano, AsDouble = sample.Value, StartTimeUnixNano = Start(family.Name + Key(sample.Labels), double.MinValue, sample.TimeUnixNano, 0) };
            AddAttributes(point.Attributes, sample.Labels);
            metric.Sum.DataPoints.Add(point);
        }
        return metric;
    }

    private Metric? Histogram(ScrapedFamily family, List<Sample> samples)
    {
        var created = Created(samples);
        var groups = new Dictionary<string, (Dictionary<string, string> Labels, List<(double Le, double Count, ScrapedExemplar? Exemplar)> Buckets, double? Sum, double? Count, ulong Time)>(StringComparer.Ordinal);
        foreach (var sample in samples)
        {
            var labels = new Dictionary<string, string>(sample.Labels, StringComparer.Ordinal);
            labels.Remove("le", out var le);
            var key = Key(labels);
            if (!groups.TryGetValue(key, out var group)) group = (labels, [], null, null, sample.TimeUnixNano);
            if (sample.Name.EndsWith("_bucket", StringComparison.Ordinal) && le is not null)
                group.Buckets.Add((ExpositionParser.ParseFloat(le, 0), sample.Value, sample.Exemplar));
            else if (sample.Name.EndsWith("_sum", StringComparison.Ordinal)) group.Sum = sample.Value;
            else if (sample.Name.EndsWith("_count", StringComparison.Ordinal)) group.Count = sample.Value;
            group.Time = Math.Max(group.Time, sample.TimeUnixNano);
            groups[key] = group;
        }
        var metric = NewMetric(family);
        metric.Histogram = new Histogram { AggregationTemporality = AggregationTemporality.Cumulative };
        foreach (var (key, group) in groups)
        {
            if (group.Buckets.Count == 0 && group.Count is null) continue;
            group.Buckets.Sort((a, b) => a.Le.CompareTo(b.Le));
            var count = group.Count ?? group.Buckets.LastOrDefault(b => double.IsPositiveInfinity(b.Le)).Count;
            var point = new HistogramDataPoint
            {
                TimeUnixNano = group.Time,
                Count = (ulong)Math.Max(0, count),
                StartTimeUnixNano = Start(family.Name + key, count, group.Time, created.GetValueOrDefault(key)),
            };
            if (group.Sum is { } sum) point.Sum = sum;
            double previous = 0;
            foreach (var (le, cumulative, exemplar) in group.Buckets)
            {
                if (!double.IsPositiveInfinity(le)) point.ExplicitBounds.Add(le);
                point.BucketCounts.Add((ulong)Math.Max(0, cumulative - previous));
                previous = cumulative;
                AddExemplar(point.Exemplars, exemplar, group.Time);
            }
            if (group.Buckets.Count == 0 || !double.IsPositiveInfinity(group.Buckets[^1].Le))
                point.BucketCounts.Add((ulong)Math.Max(0, count - previous)); // the +Inf bucket the target left out
            AddAttributes(point.Attributes, group.Labels);
            metric.Histogram.DataPoints.Add(point);
        }
        return metric.Histogram.DataPoints.Count > 0 ? metric : null;
    }

    private Metric? Summary(ScrapedFamily family, List<Sample> samples)
    {
        var created = Created(samples);
        var groups = new Dictionary<string, (Dictionary<string, string> Labels, List<(double Q, double V)> Quantiles, double Sum, double Count, ulong Time)>(StringComparer.Ordinal);
        foreach (var sample in samples)
        {
            var labels = new Dictionary<string, string>(sample.Labels, StringComparer.Ordinal);
            labels.Remove("quantile", out var quantile);
            var key = Key(labels);
            if (!groups.TryGetValue(key, out var group)) group = (labels, [], 0, 0, sample.TimeUnixNano);
            if (sample.Name.EndsWith("_sum", StringComparison.Ordinal)) group.Sum = sample.Value;
            else if (sample.Name.EndsWith("_count", StringComparison.Ordinal)) group.Count = sample.Value;
            else if (quantile is not null) group.Quantiles.Add((ExpositionParser.ParseFloat(quantile, 0), sample.Value));
            group.Time = Math.Max(group.Time, sample.TimeUnixNano);
            groups[key] = group;
        }
        var metric = NewMetric(family);
        metric.Summary = new Summary();
        foreach (var (key, group) in groups)
        {
            var point = new SummaryDataPoint
            {
                TimeUnixNano = group.Time, Sum = group.Sum, Count = (ulong)Math.Max(0, group.Count),
                StartTimeUnixNano = Start(family.Name + key, group.Count, group.Time, created.GetValueOrDefault(key)),
            };
            foreach (var (q, v) in group.Quantiles.OrderBy(q => q.Q)) point.QuantileValues.Add(new SummaryDataPoint.Types.ValueAtQuantile { Quantile = q, Value = v });
            AddAttributes(point.Attributes, group.Labels);
            metric.Summary.DataPoints.Add(point);
        }
        return metric;
    }

    /// <summary>OpenMetrics _created samples (seconds) by label set, as nanoseconds.</summary>
    private static Dictionary<string, ulong> Created(List<Sample> samples)
    {
        var created = new Dictionary<string, ulong>(StringComparer.Ordinal);
        foreach (var sample in samples)
            if (sample.Name.EndsWith("_created", StringComparison.Ordinal) && sample.Value > 0)
                created[Key(sample.Labels)] = (ulong)(sample.Value * 1e9);
        return created;
    }

    /// <summary>The start time of a cumulative series: _created when given, else when first seen; a drop in value is a reset.</summary>
    private ulong Start(string key, double value, ulong time, ulong created)
    {
        ulong start;
        if (created > 0) start = created;
        else if (_starts.TryGetValue(key, out var known) && value >= known.Last) start = known.Start;
        else if (_starts.ContainsKey(key)) start = time - 1_000_000; // reset: counting began after the previous scrape
        else start = time;
        _seen[key] = (start, value);
        return start;
    }

    private static string Key(Dictionary<string, string> labels)
    {
        var builder = new System.Text.StringBuilder();
        foreach (var (name, value) in labels.OrderBy(l => l.Key, StringComparer.Ordinal))
            builder.Append('\u0000').Append(name).Append('\u0001').Append(value);
        return builder.ToString();
    }

    private static void AddAttributes(Google.Protobuf.Collections.RepeatedField<KeyValue> attributes, Dictionary<string, string> labels)
    {
        foreach (var (name, value) in labels.OrderBy(l => l.Key, StringComparer.Ordinal))
            attributes.Add(new KeyValue { Key = name, Value = new AnyValue { StringValue = value } });
    }

    private static void AddExemplar(Google.Protobuf.Collections.RepeatedField<Exemplar> exemplars, ScrapedExemplar? scraped, ulong time)
    {
        if (scraped is null) return;
        var exemplar = new Exemplar { AsDouble = scraped.Value, TimeUnixNano = scraped.TimestampMs is { } ms ? (ulong)ms * 1_000_000 : time };
        foreach (var (name, value) in scraped.Labels)
        {
            if (name == "trace_id" && value.Length == 32 && TryHex(value, out var traceId)) exemplar.TraceId = Google.Protobuf.ByteString.CopyFrom(traceId);
            else if (name == "span_id" && value.Length == 16 && TryHex(value, out var spanId)) exemplar.SpanId = Google.Protobuf.ByteString.CopyFrom(spanId);
            else exemplar.FilteredAttributes.Add(new KeyValue { Key = name, Value = new AnyValue { StringValue = value } });
        }
        exemplars.Add(exemplar);
    }

    private static bool TryHex(string text, out byte[] bytes)
    {
        try
        {
            bytes = System.Convert.FromHexString(text);
            return true;
        }
        catch (FormatException)
        {
            bytes = [];
            return false;
        }
    }
}
