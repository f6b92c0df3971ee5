namespace OtelAi.Processors.Anomaly;

/// <summary>Distribution drift between a reference and a current window, read from their sketches.</summary>
internal static class Drift
{
    private const double Floor = 1e-4; // an empty bin counts as this share, so ln(p / q) stays finite

    /// <summary>
    /// Population stability index over ten bins cut at the reference's deciles:
    /// Σ (cur_i − ref_i) · ln(cur_i / ref_i). Below 0.1 is stable, 0.1–0.2 moderate, above 0.2 significant drift.
    /// </summary>
    public static double Psi(QuantileSketch reference, QuantileSketch current)
    {
        if (reference.Count <= 0 || current.Count <= 0) return double.NaN;
        var edges = Enumerable.Range(1, 9).Select(d => reference.Quantile(d / 10.0)).Distinct().Order().ToArray();
        double psi = 0, previousRef = 0, previousCur = 0;
        for (var i = 0; i <= edges.Length; i++)
        {
            var refCdf = i < edges.Length ? reference.Cdf(edges[i]) : 1;
            var curCdf = i < edges.Length ? current.Cdf(edges[i]) : 1;
            var refShare = Math.Max(Floor, refCdf - previousRef);
            var curShare = Math.Max(Floor, curCdf - previousCur);
            psi += (curShare - refShare) * Math.Log(curShare / refShare);
            previousRef = refCdf;
            previousCur = curCdf;
        }
        return psi;
    }

    /// <summary>Kolmogorov–Smirnov distance: the largest gap between the two empirical CDFs (0..1).</summary>
    public static double Ks(QuantileSketch reference, QuantileSketch current)
    {
        if (reference.Count <= 0 || current.Count <= 0) return double.NaN;
        var distance = 0.0;
        foreach (var value in reference.BucketValues().Concat(current.BucketValues()))
            distance = Math.Max(distance, Math.Abs(reference.Cdf(value) - current.Cdf(value)));
        return distance;
    }
}
