namespace OtelAi.Processors.Anomaly;

/// <summary>The statistics a rule can read from a window of one series.</summary>
public enum Statistic
{
    [OtelAi.Engine.Config.ConfigKey("count")] Count,
    [OtelAi.Engine.Config.ConfigKey("rate")] Rate,
    [OtelAi.Engine.Config.ConfigKey("mean")] Mean,
    [OtelAi.Engine.Config.ConfigKey("stddev")] StdDev,
    [OtelAi.Engine.Config.ConfigKey("min")] Min,
    [OtelAi.Engine.Config.ConfigKey("max")] Max,
    [OtelAi.Engine.Config.ConfigKey("p50")] P50,
    [OtelAi.Engine.Config.ConfigKey("p95")] P95,
    [OtelAi.Engine.Config.ConfigKey("p99")] P99,
    [OtelAi.Engine.Config.ConfigKey("peak_to_trough")] PeakToTrough,
    [OtelAi.Engine.Config.ConfigKey("slope")] Slope,
    [OtelAi.Engine.Config.ConfigKey("sum")] Sum,
}

/// <summary>
/// What one step of one series saw: a quantile sketch and the sums that merge across steps (count, sum, sum of
/// squares, min, max, and the least-squares sums over time for the slope).
/// </summary>
internal sealed class StepAggregate
{
    public QuantileSketch Sketch { get; } = new();
    public double Count;
    public double Sum;
    public double SumSquares;
    public double Min = double.PositiveInfinity;
    public double Max = double.NegativeInfinity;
    public double SumT;
    public double SumTT;
    public double SumTV;

    /// <param name="seconds">The value's time, in seconds from a fixed origin (for the slope).</param>
    public void Add(double value, double seconds, double weight = 1)
    {
        Sketch.Add(value, weight);
        Count += weight;
        Sum += value * weight;
        SumSquares += value * value * weight;
        Min = Math.Min(Min, value);
        Max = Math.Max(Max, value);
        SumT += seconds * weight;
        SumTT += seconds * seconds * weight;
        SumTV += seconds * value * weight;
    }

    public void Merge(StepAggregate other)
    {
        Sketch.Merge(other.Sketch);
        Count += other.Count;
        Sum += other.Sum;
        SumSquares += other.SumSquares;
        Min = Math.Min(Min, other.Min);
        Max = Math.Max(Max, other.Max);
        SumT += other.SumT;
        SumTT += other.SumTT;
        SumTV += other.SumTV;
    }

    /// <summary>
    /// The same values timed from an origin <paramref name="delta"/> seconds earlier (t' = t + delta): the sums over
    /// time are moved so the slope is unchanged. Used to store times as Unix seconds and read them back.
    /// </summary>
    public StepAggregate Shifted(double delta)
    {
        var shifted = new StepAggregate
        {
            Count = Count, Sum = Sum, SumSquares = SumSquares, Min = Min, Max = Max,
            SumT = SumT + Count * delta,
            SumTT = SumTT + 2 * delta * SumT + Count * delta * delta,
            SumTV = SumTV + delta * Sum,
        };
        shifted.Sketch.Merge(Sketch);
        return shifted;
    }

    /// <summary>A statistic of this aggregate over <paramref name="windowSeconds"/>; NaN when there is nothing to say.</summary>
    public double Read(Statistic statistic, double windowSeconds)
    {
        if (Count <= 0) return statistic is Statistic.Count or Statistic.Rate or Statistic.Sum ? 0 : double.NaN;
        var mean = Sum / Count;
        return statistic switch
        {
            Statistic.Count => Count,
            Statistic.Rate => Count / windowSeconds,
            Statistic.Sum => Sum,
            Statistic.Mean => mean,
            Statistic.StdDev => Math.Sqrt(Math.Max(0, SumSquares / Count - mean * mean)),
            Statistic.Min => Min,
            Statistic.Max => Max,
            Statistic.P50 => Sketch.Quantile(0.5),
            Statistic.P95 => Sketch.Quantile(0.95),
            Statistic.P99 => Sketch.Quantile(0.99),
            Statistic.PeakToTrough => Max - Min,
            _ => Slope(),
        };
    }

    /// <summary>Least-squares slope of value over time (per second); NaN with fewer than two distinct times.</summary>
    private double Slope()
    {
        var denominator = Count * SumTT - SumT * SumT;
        return Math.Abs(denominator) < 1e-12 ? double.NaN : (Count * SumTV - SumT * Sum) / denominator;
    }
}

/// <summary>Mean and standard deviation of weighted values (reliability weights: equal weights give the sample stddev).</summary>
internal static class WeightedMoments
{
    public static (double Mean, double StdDev) Of(IReadOnlyList<(double Value, double Weight)> values)
    {
        double v1 = 0, v2 = 0, sum = 0;
        foreach (var (value, weight) in values)
        {
            v1 += weight;
            v2 += weight * weight;
            sum += weight * value;
        }
        var mean = sum / v1;
        var squares = values.Sum(v => v.Weight * (v.Value - mean) * (v.Value - mean));
        var denominator = v1 - v2 / v1;
        return (mean, denominator > 0 ? Math.Sqrt(squares / denominator) : 0);
    }
}

/// <summary>
/// A series' recent steps (a ring of window/step + 1 slots and more for the previous window): the current window is
/// the merge of the last window/step steps, the previous window the ones before them.
/// </summary>
internal sealed class SeriesWindows(int stepsPerWindow, int historyWindows)
{
    private readonly StepAggregate?[] _steps = new StepAggregate?[stepsPerWindow * (historyWindows + 1)];
    private long _currentStep = long.MinValue;

    public long LastSeenStep { get; private set; } = long.MinValue;

    /// <summary>The first step a value arrived in (where the first full window starts).</summary>
    public long FirstStep { get; private set; } = long.MaxValue;

    /// <summary>The aggregate of step <paramref name="step"/> (older steps than the ring holds are ignored: null).</summary>
    public StepAggregate? At(long step)
    {
        if (step > _currentStep)
        {
            // Clear the slots the clock moved past.
            var from = _currentStep == long.MinValue ? step - _steps.Length + 1 : _currentStep + 1;
            for (var s = Math.Max(from, step - _steps.Length + 1); s <= step; s++) _steps[Slot(s)] = null;
            _currentStep = step;
        }
        if (step <= _currentStep - _steps.Length) return null;
        LastSeenStep = Math.Max(LastSeenStep, step);
        FirstStep = Math.Min(FirstStep, step);
        return _steps[Slot(step)] ??= new StepAggregate();
    }

    /// <summary>The merge of the <paramref name="stepsPerWindow"/> steps ending at <paramref name="lastStep"/> (inclusive).</summary>
    public StepAggregate Window(long lastStep, int windowsBack = 0)
    {
        var merged = new StepAggregate();
        var end = lastStep - (long)windowsBack * stepsPerWindow;
        for (var s = end - stepsPerWindow + 1; s <= end; s++)
        {
            if (s > _currentStep || s <= _currentStep - _steps.Length) continue;
            if (_steps[Slot(s)] is { } aggregate) merged.Merge(aggregate);
        }
        return merged;
    }

    /// <summary>The steps the ring holds, oldest first (for a snapshot).</summary>
    public IEnumerable<(long Step, StepAggregate Aggregate)> Steps()
    {
        if (_currentStep == long.MinValue) yield break;
        for (var s = _currentStep - _steps.Length + 1; s <= _currentStep; s++)
            if (_steps[Slot(s)] is { } aggregate) yield return (s, aggregate);
    }

    /// <summary>Puts a stored step back (restoring a snapshot; steps too old for the ring are dropped).</summary>
    public void Restore(long step, StepAggregate aggregate)
    {
        if (At(step) is not null) _steps[Slot(step)] = aggregate;
    }

    private int Slot(long step) => (int)(((step % _steps.Length) + _steps.Length) % _steps.Length);
}
