using OtelAi.Exporters.PrometheusCommon;
using OtelAi.Otlp.Proto.Metrics.V1;
using static OtelAi.Prometheus.Tests.TranslationTests;

namespace OtelAi.Prometheus.Tests;

/// <summary>Delta → cumulative accumulation, replacement, staleness, expiry and the series cap.</summary>
public sealed class SeriesStoreTests
{
    private static PromSeries Sum(long value, ulong start, ulong time, bool delta, string model = "llama", bool monotonic = true) =>
        Single(new Metric
        {
            Name = "requests",
            Sum = new Sum
            {
                IsMonotonic = monotonic,
                AggregationTemporality = delta ? AggregationTemporality.Delta : AggregationTemporality.Cumulative,
                DataPoints = { new NumberDataPoint { StartTimeUnixNano = start, TimeUnixNano = time, AsInt = value, Attributes = { OtelAi.TestSupport.SampleData.Attr("model", model) } } },
            },
        });

    private static PromSeries Histogram(ulong time, bool delta, double[] bounds, ulong[] counts, double sum) =>
        Single(new Metric
        {
            Name = "latency",
            Unit = "s",
            Histogram = new Histogram
            {
                AggregationTemporality = delta ? AggregationTemporality.Delta : AggregationTemporality.Cumulative,
                DataPoints = { new HistogramDataPoint { StartTimeUnixNano = time - 10, TimeUnixNano = time, ExplicitBounds = { bounds }, BucketCounts = { counts }, Count = (ulong)counts.Sum(c => (long)c), Sum = sum } },
            },
        });

    private static PromSeries Single(Metric metric) =>
        Translate(Request(metric), Settings() with { TargetInfo = false }).Single();

    [Fact]
    public void Delta_sums_accumulate_from_the_first_start_time_and_a_repeated_delta_counts_once()
    {
        var store = new SeriesStore(maxSeries: 0);
        store.Apply(Sum(3, start: 100, time: 200, delta: true));
        store.Apply(Sum(4, start: 200, time: 300, delta: true));
        var (outcome, state) = store.Apply(Sum(4, start: 200, time: 300, delta: true)); // the same request retried
        Assert.Equal(StoreOutcome.Stored, outcome);
        Assert.Equal(7, state!.Value);
        Assert.Equal(100, state.StartTimeUnixNano);
        Assert.Equal(300, state.TimeUnixNano);

        store.Apply(Sum(50, start: 100, time: 250, delta: true)); // older than what the series shows: ignored
        Assert.Equal(7, store.Snapshot().Single().Series.Single().Value);
    }

    [Fact]
    public void Non_monotonic_deltas_add_up_into_a_gauge()
    {
        var store = new SeriesStore(0);
        store.Apply(Sum(5, 0, 10, delta: true, monotonic: false));
        var state = store.Apply(Sum(-2, 0, 20, delta: true, monotonic: false)).State!;
        Assert.Equal(PromType.Gauge, state.Family.Type);
        Assert.Equal(3, state.Value);
    }

    [Fact]
    public void Cumulative_points_replace_including_a_reset()
    {
        var store = new SeriesStore(0);
        store.Apply(Sum(10, start: 100, time: 200, delta: false));
        var state = store.Apply(Sum(2, start: 250, time: 300, delta: false)).State!;
        Assert.Equal(2, state.Value);
        Assert.Equal(250, state.StartTimeUnixNano);
    }

    [Fact]
    public void Delta_histograms_add_per_bucket_and_start_over_when_the_bounds_change()
    {
        var store = new SeriesStore(0);
        store.Apply(Histogram(100, delta: true, [0.1, 1], [1, 2, 0], 1.2));
        var state = store.Apply(Histogram(200, delta: true, [0.1, 1], [0, 1, 3], 9)).State!;
        Assert.Equal([1UL, 3, 3], state.BucketCounts);
        Assert.Equal(7UL, state.Count);
        Assert.Equal(10.2, state.Sum, 10);
        Assert.Equal(90, state.StartTimeUnixNano);

        state = store.Apply(Histogram(300, delta: true, [0.5], [4, 1], 2)).State!;
        Assert.Equal([0.5], state.Bounds);
        Assert.Equal([4UL, 1], state.BucketCounts);
        Assert.Equal(290, state.StartTimeUnixNano);
    }

    [Fact]
    public void A_point_without_recorded_value_removes_its_series()
    {
        var store = new SeriesStore(0);
        store.Apply(Sum(1, 0, 10, delta: false));
        var stale = Single(new Metric
        {
            Name = "requests",
            Sum = new Sum { IsMonotonic = true, AggregationTemporality = AggregationTemporality.Cumulative, DataPoints = { new NumberDataPoint { TimeUnixNano = 20, Flags = 1, Attributes = { OtelAi.TestSupport.SampleData.Attr("model", "llama") } } } },
        });
        Assert.Equal(StoreOutcome.Removed, store.Apply(stale).Outcome);
        Assert.Equal(0, store.SeriesCount);
    }

    [Fact]
    public void Max_series_refuses_new_series_but_keeps_updating_existing_ones()
    {
        var store = new SeriesStore(maxSeries: 2);
        Assert.Equal(StoreOutcome.Stored, store.Apply(Sum(1, 0, 10, false, "a")).Outcome);
        Assert.Equal(StoreOutcome.Stored, store.Apply(Sum(1, 0, 10, false, "b")).Outcome);
        Assert.Equal(StoreOutcome.RefusedOverLimit, store.Apply(Sum(1, 0, 10, false, "c")).Outcome);
        Assert.Equal(9, store.Apply(Sum(9, 0, 20, false, "a")).State!.Value);
        Assert.Equal(2, store.SeriesCount);
    }

    [Fact]
    public void Expire_removes_series_not_updated_since_the_cut_and_they_can_come_back()
    {
        var store = new SeriesStore(0);
        var old = Sum(1, 0, 10, false, "old");
        old.UpdatedTicks = 100;
        var fresh = Sum(1, 0, 10, false, "fresh");
        fresh.UpdatedTicks = 500;
        store.Apply(old);
        store.Apply(fresh);

        Assert.Equal(1, store.Expire(olderThanTicks: 300));
        Assert.Equal(["fresh"], store.Snapshot().Single().Series.Select(s => s.Labels.Single(l => l.Name == "model").Value));

        var back = Sum(5, 0, 20, false, "old");
        back.UpdatedTicks = 600;
        Assert.Equal(5, store.Apply(back).State!.Value);
        Assert.Equal(2, store.SeriesCount);
    }
}
