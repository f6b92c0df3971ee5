using OtelAi.Otlp.Proto.Metrics.V1;

namespace OtelAi.Processors.Common;

/// <summary>The distribution of one derived series (durations, token counts): explicit buckets, or an exponential histogram that lowers its scale to stay within max_size buckets.</summary>
internal abstract class DurationHistogram
{
    public ulong Count { get; private set; }

    public double Sum { get; private set; }

    public double Min { get; private set; } = double.PositiveInfinity;

    public double Max { get; private set; } = double.NegativeInfinity;

    public void Record(double value, ulong weight)
    {
        Count += weight;
        Sum += value * weight;
        Min = Math.Min(Min, value);
        Max = Math.Max(Max, value);
        RecordBucket(value, weight);
    }

    protected abstract void RecordBucket(double value, ulong weight);

    /// <summary>Back to empty (delta temporality, after a flush).</summary>
    public virtual void Reset()
    {
        Count = 0;
        Sum = 0;
        Min = double.PositiveInfinity;
        Max = double.NegativeInfinity;
    }
}

internal sealed class ExplicitDurationHistogram(double[] bounds) : DurationHistogram
{
    private readonly ulong[] _counts = new ulong[bounds.Length + 1];

    protected override void RecordBucket(double value, ulong weight)
    {
        var index = Array.BinarySearch(bounds, value);
        _counts[index >= 0 ? index : ~index] += weight; // a value equal to a bound belongs to that bound's bucket (upper-inclusive)
    }

    public override void Reset()
    {
        base.Reset();
        Array.Clear(_counts);
    }

    public HistogramDataPoint ToPoint()
    {
        var point = new HistogramDataPoint { Count = Count, Sum = Sum };
        if (Count > 0)
        {
            point.Min = Min;
            point.Max = Max;
        }
        point.ExplicitBounds.Add(bounds);
        point.BucketCounts.Add(_counts);
        return point;
    }
}

/// <summary>
/// OpenTelemetry's base-2 exponential histogram for positive values: bucket i of scale s holds (2^(i·2^-s), 2^((i+1)·2^-s)].
/// It starts at scale 20 and halves its resolution (scale − 1, indices shifted right) whenever the buckets in use
/// would span more than max_size; zero durations go to the zero bucket.
/// </summary>
internal sealed class ExponentialDurationHistogram(int maxSize) : DurationHistogram
{
    private const int StartScale = 20;
    private const int MinScale = -10;
    private readonly Dictionary<int, ulong> _buckets = [];
    private int _minIndex = int.MaxValue;
    private int _maxIndex = int.MinValue;
    private int _scale = StartScale;
    private ulong _zeroCount;

    protected override void RecordBucket(double value, ulong weight)
    {
        if (value <= 0)
        {
            _zeroCount += weight;
            return;
        }
        var index = Index(value, _scale);
        while (_scale > MinScale && _buckets.Count > 0 && (long)Math.Max(index, _maxIndex) - Math.Min(index, _minIndex) + 1 > maxSize)
        {
            Downscale();
            index = Index(value, _scale);
        }
        _buckets[index] = _buckets.GetValueOrDefault(index) + weight;
        _minIndex = Math.Min(_minIndex, index);
        _maxIndex = Math.Max(_maxIndex, index);
    }

    private static int Index(double value, int scale) => (int)Math.Ceiling(Math.Log2(value) * Math.Pow(2, scale)) - 1;

    private void Downscale()
    {
        var merged = new Dictionary<int, ulong>(_buckets.Count);
        foreach (var (index, count) in _buckets) merged[index >> 1] = merged.GetValueOrDefault(index >> 1) + count;
        _buckets.Clear();
        foreach (var (index, count) in merged) _buckets[index] = count;
        _minIndex >>= 1;
        _maxIndex >>= 1;
        _scale--;
    }

    public override void Reset()
    {
        base.Reset();
        _buckets.Clear();
        _minIndex = int.MaxValue;
        _maxIndex = int.MinValue;
        _zeroCount = 0;
        _scale = StartScale;
    }

    public ExponentialHistogramDataPoint ToPoint()
    {
        var point = new ExponentialHistogramDataPoint { Count = Count, Sum = Sum, Scale = _scale, ZeroCount = _zeroCount, Positive = new() };
        if (Count > 0)
        {
            point.Min = Min;
            point.Max = Max;
        }
        if (_buckets.Count > 0)
        {
            point.Positive.Offset = _minIndex;
            for (var index = _minIndex; index <= _maxIndex; index++) point.Positive.BucketCounts.Add(_buckets.GetValueOrDefault(index));
        }
        return point;
    }
}
