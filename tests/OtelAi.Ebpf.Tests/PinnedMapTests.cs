using OtelAi.Otlp;
using OtelAi.Receivers.Ebpf;
using OtelAi.TestSupport;

namespace OtelAi.Ebpf.Tests;

/// <summary>Real kernel: another program pins a perf event array / ring buffer; the receiver reads it by pinned_map.</summary>
public sealed class PinnedMapTests
{
    [Fact]
    public async Task Reads_a_pinned_perf_event_array_into_spans_with_the_configured_layout()
    {
        using var producer = new EbpfEventProducer();
        await using var receiver = new ReceiverUnderTest(new EbpfReceiverConfig { PinnedMap = producer.PerfMap, EventLayout = EbpfEventProducer.Layout(EventSignal.Traces) });
        await receiver.StartAsync();

        producer.Generate(500);

        await ReceiverUnderTest.WaitUntil(() => receiver.Spans().Count >= 500, "500 spans");
        var spans = receiver.Spans();
        Assert.Equal(500, spans.Count);
        Assert.All(spans, s =>
        {
            Assert.Equal("getppid", s.Span.Name);
            Assert.Equal("otelai", s.Span.Attributes.Get("tag")!.StringValue);
            Assert.Equal(producer.Pid, s.Resource.Attributes.Get("process.pid")!.IntValue);
            Assert.Equal("pin_events", s.Resource.Attributes.Get("process.executable.name")!.StringValue);
        });
        // Per-CPU sequence numbers: every event arrived once (a CPU migration may split the run between rings).
        Assert.Equal(500, spans.Select(s => (s.Span.Attributes.Get("seq")!.IntValue, s.Span.StartTimeUnixNano)).Distinct().Count());
        var now = (ulong)(DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;
        Assert.All(spans, s => Assert.InRange(s.Span.StartTimeUnixNano, now - 60_000_000_000UL, now));
        Assert.Equal(0, receiver.Settings.Metrics.Read("otelai_receiver_ebpf_lost_events", ("receiver", "ebpf")));
        Assert.Equal(500, receiver.Settings.Metrics.Read("otelcol_receiver_accepted_spans", ("receiver", "ebpf"), ("transport", "ebpf")));
    }

    [Fact]
    public async Task Reads_a_pinned_ring_buffer_into_log_records()
    {
        using var producer = new EbpfEventProducer();
        await using var receiver = new ReceiverUnderTest(new EbpfReceiverConfig { PinnedMap = producer.RingMap, EventLayout = EbpfEventProducer.Layout(EventSignal.Logs) });
        await receiver.StartAsync();

        producer.Generate(300, ring: true);

        List<OtelAi.Otlp.Proto.Logs.V1.LogRecord> Logs() => receiver.Logs.Payloads.SelectMany(r => r.ResourceLogs).SelectMany(rl => rl.ScopeLogs).SelectMany(sl => sl.LogRecords).ToList();
        await ReceiverUnderTest.WaitUntil(() => Logs().Count >= 300, "300 log records");
        var logs = Logs();
        Assert.Equal(300, logs.Count);
        // One ring for all CPUs and one producer thread: the sequence is consecutive (unless the thread migrated).
        Assert.All(logs, l => Assert.Equal("otelai", l.Body.StringValue));
        Assert.All(logs, l => Assert.Equal("getppid", l.EventName));
        Assert.Equal(300, logs.Select(l => l.TimeUnixNano).Distinct().Count());
    }
}
