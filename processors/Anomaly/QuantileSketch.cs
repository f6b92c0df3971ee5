namespace OtelAi.Processors.Anomaly;

/// <summary>
/// DDSketch (Masson et al., VLDB 2019): values fall into logarithmic buckets of ratio γ = (1 + α) / (1 − α), so any
/// quantile is answered within relative error α (here 1 %), sketches of windows merge by adding bucket counts, and
/// the cumulative distribution at any value can be read back (for PSI and KS drift). Positive and negative values
/// have their own buckets; zeros are counted apart.
/// </summary>
internal sealed class QuantileSketch
{
    public const double RelativeAccuracy = 0.01;
    private static readonly double Gamma = (1 + RelativeAccuracy) / (1 - RelativeAccuracy);
    private static readonly double LogGamma = Math.Log(Gamma);

    private readonly Dictionary<int, double> _positive = [];
    private readonly Dictionary<int, double> _negative = [];
    private double _zeros;

    public double Count { get; private set; }

    public void Add(double value, double weight = 1)
    {
        if (double.IsNaN(value) || weight <= 0) return;
        Count += weight;
        if (value > 0) Increment(_positive, Index(value), weight);
        else if (value < 0) Increment(_negative, Index(-value), weight);
        else _zeros += weight;
    }

    public void Merge(QuantileSketch other)
    {
        foreach (var (index, count) in other._positive) Increment(_positive, index, count);
        foreach (var (index, count) in other._negative) Increment(_negative, index, count);
        _zeros += other._zeros;
        Count += other.Count;
    }

    /// <summary>The value at quantile <paramref name="q"/> (0..1), within 1 % relative error; NaN when empty.</summary>
    public double Quantile(double q)
    {
        if (Count <= 0) return double.NaN;
        var rank = Math.Clamp(q, 0, 1) * (Count - 1);
        double seen = 0;
        foreach (var (index, count) in _negative.OrderByDescending(b => b.Key))
        {
            seen += count;
            if (seen > rank) return -Value(index);
        }
        seen += _zeros;
        if (seen > rank) return 0;
        foreach (var (index, count) in _positive.OrderBy(b => b.Key))
        {
            seen += count;
            if (seen > rank) return Value(index);
        }
        return _positive.Count > 0 ? Value(_positive.Keys.Max()) : _zeros > 0 ? 0 : -Value(_negative.Keys.Min());
    }

    /// <summary>The share of values at or below <paramref name="value"/> (the empirical CDF, at bucket resolution).</summary>
    public double Cdf(double value)
    {
        if (Count <= 0) return double.NaN;
        double below = 0;
        foreach (var (index, count) in _negative)
            if (-Value(index) <= value) below += count;
        if (value >= 0) below += _zeros;
        foreach (var (index, count) in _positive)
            if (Value(index) <= value) below += count;
        return below / Count;
    }

    /// <summary>The representative values of the buckets in use, ascending: where a CDF can change.</summary>
    public IEnumerable<double> BucketValues() =>
        _negative.Keys.Select(i => -Value(i)).Concat(_zeros > 0 ? [0.0] : []).Concat(_positive.Keys.Select(Value)).Order();

    public void Write(BinaryWriter writer)
    {
        writer.Write(Count);
        writer.Write(_zeros);
        foreach (var buckets in new[] { _positive, _negative })
        {
            writer.Write(buckets.Count);
            foreach (var (index, count) in buckets)
            {
                writer.Write(index);
                writer.Write(count);
            }
        }
    }

    /// <summary>Replaces the contents with what <see cref="Write"/> wrote.</summary>
    public void Read(BinaryReader reader)
    {
        Count = reader.ReadDouble();
        _zeros = reader.ReadDouble();
        foreach (var buckets in new[] { _positive, _negative })
        {
            buckets.Clear();
            var count = reader.ReadInt32();
            for (var i = 0; i < count; i++) buckets[reader.ReadInt32()] = reader.ReadDouble();
        }
    }

    private static int Index(double magnitude) => (int)Math.Ceiling(Math.Log(magnitude) / LogGamma);

    /// <summary>The bucket's representative value: 2γ^i / (γ + 1), within α of every value in (γ^(i−1), γ^i].</summary>
    private static double Value(int index) => 2 * Math.Pow(Gamma, index) / (Gamma + 1);

    private static void Increment(Dictionary<int, double> buckets, int index, double count) =>
        buckets[index] = buckets.GetValueOrDefault(index) + count;
}
