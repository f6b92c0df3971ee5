using System.Globalization;

namespace OtelAi.Exporters.PrometheusCommon;

/// <summary>One sample of a series: its name suffix, the extra label that tells it apart (le, quantile), its value and exemplar.</summary>
internal readonly record struct PromSample(string Suffix, PromLabel? Extra, double Value, PromExemplar? Exemplar = null);

/// <summary>
/// The samples a series is written as, the same for the exposition and remote write: a counter, gauge or info is
/// one sample; a histogram is cumulative <c>_bucket{le}</c> samples ending with <c>+Inf</c>, then <c>_sum</c> and
/// <c>_count</c>; a summary is <c>{quantile}</c> samples, then <c>_sum</c> and <c>_count</c>.
/// </summary>
internal static class PromSamples
{
    public static List<PromSample> Of(PromSeries series)
    {
        switch (series.Family.Type)
        {
            case PromType.Histogram:
                {
                    var samples = new List<PromSample>(series.Bounds.Length + 3);
                    ulong cumulative = 0;
                    for (var i = 0; i <= series.Bounds.Length; i++)
                    {
                        cumulative += i < series.BucketCounts.Length ? series.BucketCounts[i] : 0;
                        var upper = i < series.Bounds.Length ? series.Bounds[i] : double.PositiveInfinity;
                        var lower = i > 0 ? series.Bounds[i - 1] : double.NegativeInfinity;
                        samples.Add(new PromSample("_bucket", new PromLabel("le", FormatFloat(upper)), cumulative, BucketExemplar(series.Exemplars, lower, upper)));
                    }
                    samples.Add(new PromSample("_sum", null, series.Sum));
                    samples.Add(new PromSample("_count", null, series.Count));
                    return samples;
                }
            case PromType.Summary:
                {
                    var samples = new List<PromSample>(series.Quantiles.Length + 2);
                    foreach (var (quantile, value) in series.Quantiles)
                        samples.Add(new PromSample("", new PromLabel("quantile", FormatFloat(quantile)), value));
                    samples.Add(new PromSample("_sum", null, series.Sum));
                    samples.Add(new PromSample("_count", null, series.Count));
                    return samples;
                }
            default:
                return [new PromSample("", null, series.Value, series.Family.Type == PromType.Counter && series.Exemplars.Length > 0 ? series.Exemplars[^1] : null)];
        }
    }

    private static PromExemplar? BucketExemplar(PromExemplar[] exemplars, double lower, double upper)
    {
        foreach (var exemplar in exemplars)
            if (exemplar.Value > lower && exemplar.Value <= upper) return exemplar;
        return null;
    }

    /// <summary>A float as Prometheus writes one: shortest round-trip digits, +Inf, -Inf, NaN.</summary>
    public static string FormatFloat(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        _ when double.IsNaN(value) => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };
}
