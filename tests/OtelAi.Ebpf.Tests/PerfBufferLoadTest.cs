using System.Diagnostics;
using OtelAi.Receivers.Ebpf;
using OtelAi.TestSupport;
using Xunit.Abstractions;

namespace OtelAi.Ebpf.Tests;

/// <summary>
/// Load: an external producer emits millions of events into a pinned perf event array, paced or as fast as one thread
/// can call getppid(); the receiver reads, decodes and hands them to a pipeline that counts and releases them (as an
/// exporter would). Prints events/s, CPU % and lost %; asserts only the accounting (every event is either delivered
/// or counted lost), never speed.
/// </summary>
public sealed class PerfBufferLoadTest(ITestOutputHelper output)
{
    [Theory]
    [InlineData(250_000, 2_500_000)] // paced: the rate the receiver must sustain
    [InlineData(0, 2_000_000)] // a burst as fast as one producer thread can go: overload, losses must be counted
    public async Task Every_event_is_delivered_or_counted_as_lost_under_load(long perSecond, long events)
    {
        using var producer = new EbpfEventProducer();
        // The receiver's defaults (64 pages per CPU, 16 KiB wakeup watermark, 100 ms poll interval) but for the batch size.
        await using var receiver = new ReceiverUnderTest(new EbpfReceiverConfig
        {
            PinnedMap = producer.PerfMap,
            EventLayout = EbpfEventProducer.Layout(EventSignal.Metrics),
            MaxBatchSize = 4096,
        }, keepData: false);
        await receiver.StartAsync();
        var metrics = receiver.Settings.Metrics;
        double Read(string name) => metrics.Read(name, ("receiver", "ebpf")) ?? 0;

        var self = Process.GetCurrentProcess();
        var cpuBefore = self.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var produced = producer.Generate(events, perSecond: perSecond);
        long generated = events;
        // LOST records are written when ring space frees up: a few more events flush them out.
        await ReceiverUnderTest.WaitUntil(() =>
        {
            if (Read("otelai_receiver_ebpf_records") + Read("otelai_receiver_ebpf_lost_events") >= generated) return true;
            producer.Generate(10);
            generated += 10;
            return false;
        }, "every event read or reported lost");
        var delivered = Read("otelai_receiver_ebpf_records");
        await ReceiverUnderTest.WaitUntil(() => metrics.Read("otelcol_receiver_accepted_metric_points", ("receiver", "ebpf"), ("transport", "ebpf")) >= delivered, "all records converted and accepted by the pipeline");
        clock.Stop();
        self.Refresh();
        var cpu = self.TotalProcessorTime - cpuBefore;
        var lost = Read("otelai_receiver_ebpf_lost_events");

        Assert.Equal(generated, delivered + lost);
        Assert.Equal(delivered, receiver.Metrics.Items);
        output.WriteLine($"produced {events:N0} events in {produced.TotalSeconds:F2} s ({events / produced.TotalSeconds:N0} events/s offered" +
            (perSecond > 0 ? $", paced at {perSecond:N0}/s)" : ", unpaced)"));
        output.WriteLine($"delivered {delivered:N0} ({delivered / clock.Elapsed.TotalSeconds:N0} events/s end to end over {clock.Elapsed.TotalSeconds:F2} s), " +
            $"lost {lost:N0} ({100 * lost / generated:F2} %), receiver process CPU {100 * cpu.TotalSeconds / clock.Elapsed.TotalSeconds:F0} % of one core");
    }

    [Fact]
    public async Task Replays_a_million_records_through_the_decode_path()
    {
        const int records = 1_000_000;
        var file = Path.Combine(Path.GetTempPath(), $"otelai-ebpf-load-{Guid.NewGuid():N}.rec");
        try
        {
            using (var writer = new RecordFileWriter(new BufferedStream(File.Create(file), 1 << 16), 0))
            {
                var record = new byte[32];
                for (var i = 0; i < records; i++)
                {
                    System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(record, (ulong)i);
                    System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(12), (uint)i);
                    writer.OnSample(i % 2, record);
                }
            }
            await using var receiver = new ReceiverUnderTest(new EbpfReceiverConfig { Replay = file, EventLayout = EbpfEventProducer.Layout(EventSignal.Metrics), MaxBatchSize = 4096 }, keepData: false);
            var self = Process.GetCurrentProcess();
            var cpuBefore = self.TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            await receiver.StartAsync();
            await ReceiverUnderTest.WaitUntil(() => receiver.Settings.Metrics.Read("otelcol_receiver_accepted_metric_points", ("receiver", "ebpf"), ("transport", "ebpf")) >= records, "every record decoded");
            clock.Stop();
            self.Refresh();
            Assert.Equal(records, receiver.Metrics.Items);
            output.WriteLine($"replayed and decoded {records:N0} records into gauge points in {clock.Elapsed.TotalSeconds:F2} s " +
                $"({records / clock.Elapsed.TotalSeconds:N0} records/s, process CPU {100 * (self.TotalProcessorTime - cpuBefore).TotalSeconds / clock.Elapsed.TotalSeconds:F0} % of one core)");
        }
        finally
        {
            File.Delete(file);
        }
    }
}
