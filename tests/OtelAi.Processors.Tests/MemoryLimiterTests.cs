using OtelAi.TestSupport;
using OtelAi.Otlp;
using Microsoft.Extensions.Logging.Abstractions;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Consumers;
using OtelAi.Processors.MemoryLimiter;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using static OtelAi.TestSupport.SampleData;

namespace OtelAi.Processors.Tests;

public sealed class MemoryLimiterTests
{
    private const long Mib = 1024 * 1024;

    /// <summary>Memory use the test sets; a collection drops it to <see cref="AfterCollect"/> when given.</summary>
    private sealed class FakeProbe : IMemoryProbe
    {
        public long Used;
        public long? AfterCollect;
        public int Collections;

        public Action? WhileCollecting;

        public long UsedBytes() => Used;

        public void Collect()
        {
            Collections++;
            WhileCollecting?.Invoke();
            if (AfterCollect is { } after) Used = after;
        }
    }

    private static MemoryLimiterConfig Config(string yaml) => ConfigText.Bind<MemoryLimiterConfig>(yaml);

    [Fact]
    public void Limits_FromMib_AndDefaultSpikeIsTwentyPercent()
    {
        var limiter = new SharedMemoryLimiter(Config("check_interval: 1s\nlimit_mib: 100"), new FakeProbe(), NullLogger.Instance);
        Assert.Equal(100 * Mib, limiter.HardLimitBytes);
        Assert.Equal(20 * Mib, limiter.SpikeBytes);
        Assert.Equal(80 * Mib, limiter.SoftLimitBytes);
    }

    [Fact]
    public void Limits_FromPercentageOfTotalMemory()
    {
        var limiter = new SharedMemoryLimiter(Config("check_interval: 1s\nlimit_percentage: 50\nspike_limit_percentage: 10"),
            new FakeProbe(), NullLogger.Instance, totalMemoryBytes: 1000 * Mib);
        Assert.Equal(500 * Mib, limiter.HardLimitBytes);
        Assert.Equal(100 * Mib, limiter.SpikeBytes);
    }

    [Fact]
    public async Task A_limiter_is_shared_within_one_collector_and_dropped_with_it()
    {
        var factory = new MemoryLimiterProcessorFactory(new FakeProbe());
        var config = Config("check_interval: 1h\nlimit_mib: 100");
        var sink = new Sink<ExportTraceServiceRequest>();
        SharedMemoryLimiter LimiterIn(SharedComponents collector) =>
            ((MemoryLimiterProcessor<ExportTraceServiceRequest>)factory.CreateProcessor(TestHost.Settings("memory_limiter", collector), config, sink)).Limiter;
        var first = new SharedComponents();
        var second = new SharedComponents();

        // Two pipelines of one collector share the limiter; another collector from the same factory has its own.
        var shared = LimiterIn(first);
        Assert.Same(shared, LimiterIn(first));
        var other = LimiterIn(second);
        Assert.NotSame(shared, other);

        // Once the collector stops its limiter is gone (a later build starts afresh); the other collector keeps its own.
        await first.DisposeAsync();
        Assert.NotSame(shared, LimiterIn(first));
        Assert.Same(other, LimiterIn(second));
    }

    [Fact]
    public void TotalMemory_IsPositive()
    {
        Assert.True(TotalMemory.Read() > 0);
    }

    [Fact]
    public async Task AboveSoftLimit_RefusesWithResourceExhausted_ThenRecovers()
    {
        var probe = new FakeProbe { Used = 10 * Mib };
        var factory = new MemoryLimiterProcessorFactory(probe);
        var sink = new Sink<ExportTraceServiceRequest>();
        var settings = TestHost.Settings("memory_limiter");
        var processor = (MemoryLimiterProcessor<ExportTraceServiceRequest>)factory.CreateProcessor(settings,
            Config("check_interval: 1h\nlimit_mib: 100\nspike_limit_mib: 20"), sink);
        await processor.StartAsync(TestHost.Instance, CancellationToken.None);

        processor.Limiter.CheckMemLimits();
        await processor.ConsumeAsync(Traces(3), CancellationToken.None);
        Assert.Single(sink.Received);

        probe.Used = 85 * Mib; // above soft (80), below hard (100); soft GCs are rate-limited to 10s by default
        processor.Limiter.CheckMemLimits();
        Assert.True(processor.Limiter.MustRefuse);
        Assert.Equal(0, probe.Collections);
        var error = await Assert.ThrowsAsync<RetryableDataException>(() => processor.ConsumeAsync(Traces(4), CancellationToken.None).AsTask());
        Assert.True(error.ResourceExhausted);
        Assert.NotNull(error.RetryAfter);
        Assert.Equal(4, settings.Metrics.Read("otelcol_processor_refused_spans", ("processor", "memory_limiter")));
        Assert.Single(sink.Received);

        probe.Used = 50 * Mib;
        processor.Limiter.CheckMemLimits();
        Assert.False(processor.Limiter.MustRefuse);
        await processor.ConsumeAsync(Traces(1), CancellationToken.None);
        Assert.Equal(2, sink.Received.Count);
        await processor.ShutdownAsync(CancellationToken.None);
    }

    [Fact]
    public void AboveHardLimit_ForcesGc_AndAcceptsWhenItHelped()
    {
        var probe = new FakeProbe { Used = 120 * Mib, AfterCollect = 40 * Mib };
        var limiter = new SharedMemoryLimiter(Config("check_interval: 1s\nlimit_mib: 100"), probe, NullLogger.Instance);

        limiter.CheckMemLimits();

        Assert.Equal(1, probe.Collections);
        Assert.False(limiter.MustRefuse);
    }

    [Fact]
    public void AboveHardLimit_GcDidNotHelp_Refuses()
    {
        var probe = new FakeProbe { Used = 120 * Mib, AfterCollect = 95 * Mib };
        var limiter = new SharedMemoryLimiter(Config("check_interval: 1s\nlimit_mib: 100"), probe, NullLogger.Instance);
        limiter.CheckMemLimits();
        Assert.Equal(1, probe.Collections);
        Assert.True(limiter.MustRefuse);
    }

    [Fact]
    public void ForcedGcs_AreRateLimited_ByTheMinIntervals()
    {
        var time = new ManualTime();
        var probe = new FakeProbe { Used = 90 * Mib };
        var limiter = new SharedMemoryLimiter(
            Config("check_interval: 1s\nlimit_mib: 100\nmin_gc_interval_when_soft_limited: 10s\nmin_gc_interval_when_hard_limited: 2s"),
            probe, NullLogger.Instance, time);

        time.Advance(TimeSpan.FromSeconds(5));
        limiter.CheckMemLimits();
        Assert.Equal(0, probe.Collections); // soft: 5s < 10s
        time.Advance(TimeSpan.FromSeconds(6));
        limiter.CheckMemLimits();
        Assert.Equal(1, probe.Collections); // soft: 11s > 10s

        probe.Used = 130 * Mib;
        time.Advance(TimeSpan.FromSeconds(1));
        limiter.CheckMemLimits();
        Assert.Equal(1, probe.Collections); // hard: 1s < 2s
        time.Advance(TimeSpan.FromSeconds(2));
        limiter.CheckMemLimits();
        Assert.Equal(2, probe.Collections);
        Assert.True(limiter.MustRefuse);
    }

    [Fact]
    public void ForcedGcs_TakeAtMostATenthOfTheTime_EvenWithNoMinInterval()
    {
        var time = new ManualTime();
        var probe = new FakeProbe { Used = 130 * Mib, WhileCollecting = () => time.Advance(TimeSpan.FromSeconds(2)) }; // a 2 s collection that frees nothing
        var limiter = new SharedMemoryLimiter(Config("check_interval: 1s\nlimit_mib: 100"), probe, NullLogger.Instance, time);
        time.Advance(TimeSpan.FromSeconds(1));
        limiter.CheckMemLimits();
        Assert.Equal(1, probe.Collections);
        for (var second = 1; second < 18; second++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            limiter.CheckMemLimits();
        }
        Assert.Equal(1, probe.Collections); // 17 s after a 2 s collection: still under 9 × 2 s
        time.Advance(TimeSpan.FromSeconds(1));
        limiter.CheckMemLimits();
        Assert.Equal(2, probe.Collections);
        Assert.True(limiter.MustRefuse);
    }

    [Fact]
    public async Task OneLimiterPerId_SharedAcrossPipelines()
    {
        var factory = new MemoryLimiterProcessorFactory(new FakeProbe());
        var config = Config("check_interval: 1s\nlimit_mib: 100");
        var collector = new SharedComponents();
        var traces = (MemoryLimiterProcessor<ExportTraceServiceRequest>)factory.CreateProcessor(TestHost.Settings("memory_limiter", collector), config, new Sink<ExportTraceServiceRequest>());
        var logs = (MemoryLimiterProcessor<OtelAi.Otlp.Proto.Collector.Logs.V1.ExportLogsServiceRequest>)factory.CreateProcessor(
            TestHost.Settings("memory_limiter", collector), config, new Sink<OtelAi.Otlp.Proto.Collector.Logs.V1.ExportLogsServiceRequest>());
        var other = (MemoryLimiterProcessor<ExportTraceServiceRequest>)factory.CreateProcessor(TestHost.Settings("memory_limiter/2", collector), config, new Sink<ExportTraceServiceRequest>());

        Assert.Same(traces.Limiter, logs.Limiter);
        Assert.NotSame(traces.Limiter, other.Limiter);
        await traces.StartAsync(TestHost.Instance, CancellationToken.None);
        await logs.StartAsync(TestHost.Instance, CancellationToken.None);
        await traces.ShutdownAsync(CancellationToken.None);
        await logs.ShutdownAsync(CancellationToken.None);
    }

    [Theory]
    [InlineData("limit_mib: 100", "'check_interval' must be greater than zero")]
    [InlineData("check_interval: 1s", "'limit_mib' or 'limit_percentage' must be greater than zero")]
    [InlineData("check_interval: 1s\nlimit_mib: 100\nspike_limit_mib: 100", "'spike_limit_mib' must be smaller than 'limit_mib'")]
    [InlineData("check_interval: 1s\nlimit_percentage: 50\nspike_limit_percentage: 60", "'spike_limit_percentage' must be smaller than 'limit_percentage'")]
    [InlineData("check_interval: 1s\nlimit_mib: 10\nmin_gc_interval_when_soft_limited: 1s\nmin_gc_interval_when_hard_limited: 5s", "should be larger than")]
    public void InvalidConfig_IsRejected(string yaml, string expected)
    {
        var error = Assert.Throws<ConfigException>(() => Config(yaml));
        Assert.Contains(expected, error.Message);
    }
}

[CollectionDefinition(nameof(RealMemoryCollection), DisableParallelization = true)]
public sealed class RealMemoryCollection;

/// <summary>Real managed-heap measurements: runs alone so other tests' allocations do not move the baseline.</summary>
[Collection(nameof(RealMemoryCollection))]
public sealed class MemoryLimiterRealHeapTests
{
    [Fact]
    public async Task Allocating_PushesOverTheLimit_ReleasingRecovers()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        var baselineMib = GC.GetTotalMemory(false) / (1024 * 1024);
        var config = ConfigText.Bind<MemoryLimiterConfig>($"""
            check_interval: 50ms
            limit_mib: {baselineMib + 256}
            spike_limit_mib: 128
            min_gc_interval_when_soft_limited: 0s
            """);
        var sink = new Sink<ExportTraceServiceRequest>();
        var processor = new MemoryLimiterProcessorFactory().CreateProcessor(TestHost.Settings("memory_limiter"), config, sink);
        await processor.StartAsync(TestHost.Instance, CancellationToken.None);
        await processor.ConsumeAsync(Traces(1), CancellationToken.None);

        var ballast = new List<byte[]>();
        for (var i = 0; i < 40; i++)
        {
            var chunk = new byte[8 * 1024 * 1024];
            Array.Fill(chunk, (byte)i);
            ballast.Add(chunk); // 320 MiB live, above the hard limit: a forced GC cannot help
        }
        var refused = await PollAsync(async () =>
        {
            try { await processor.ConsumeAsync(Traces(1), CancellationToken.None); return false; }
            catch (RetryableDataException e) when (e.ResourceExhausted) { return true; }
        });
        Assert.True(refused, "the limiter never refused while 320 MiB above the baseline were live");
        Assert.Equal(40, ballast.Count(b => b[0] == ballast.IndexOf(b)));

        ballast.Clear();
        var recovered = await PollAsync(async () =>
        {
            try { await processor.ConsumeAsync(Traces(1), CancellationToken.None); return true; }
            catch (RetryableDataException) { return false; }
        });
        Assert.True(recovered, "the limiter did not recover after the memory was released");
        await processor.ShutdownAsync(CancellationToken.None);
    }

    private static async Task<bool> PollAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (await condition()) return true;
            await Task.Delay(20);
        }
        return false;
    }
}
