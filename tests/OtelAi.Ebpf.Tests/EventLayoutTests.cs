using System.Buffers.Binary;
using OtelAi.Engine.Config;
using OtelAi.Otlp;
using OtelAi.Receivers.Ebpf;

namespace OtelAi.Ebpf.Tests;

/// <summary>event_layout: YAML binding, C alignment, validation errors, and decoding of records.</summary>
public sealed class EventLayoutTests
{
    private const string LayoutYaml = """
        pinned_map: /sys/fs/bpf/inference_events
        event_layout:
          size: 48
          signal: traces
          name: inference
          fields:
            - { name: flag, type: u8 }
            - { name: start, type: u64, map_to: start_time }
            - { name: status, type: u16, map_to: attributes.http.response.status_code }
            - { name: pid, type: u32, map_to: pid }
            - { name: delta, type: s32, map_to: attributes.delta }
            - { name: route, type: "char[12]", map_to: attributes.url.path }
            - { name: duration, type: u64, offset: 40, map_to: duration }
        """;

    [Fact]
    public void Binds_from_yaml_and_lays_fields_out_at_their_natural_alignment()
    {
        var config = ConfigLoader.Bind<EbpfReceiverConfig>(LayoutYaml);
        var layout = EventLayout.From(config.EventLayout!);

        Assert.Equal([0, 8, 16, 20, 24, 28, 40], layout.Fields.Select(f => f.Offset));
        Assert.Equal(48, layout.MinimumRecordSize);
        Assert.Equal("attributes.url.path", layout.Fields[5].Target);
    }

    [Theory]
    [InlineData("size: 40", "event_layout.size", "need 48 bytes")]
    [InlineData("fields: [{ name: a, type: u24 }]", "event_layout.fields", "unknown type \"u24\"")]
    [InlineData("fields: [{ name: a, type: u32 }, { name: b, type: u32, offset: 2 }]", "event_layout.fields", "overlaps")]
    [InlineData("fields: [{ name: a, type: u32 }, { name: a, type: u32 }]", "event_layout.fields", "appears twice")]
    [InlineData("fields: [{ name: a, type: \"char[8]\", map_to: start_time }]", "event_layout.fields", "needs an integer field")]
    [InlineData("fields: [{ name: a, type: u32, map_to: body }]", "event_layout.fields.a.map_to", "not a traces target")]
    public void Rejects_layouts_that_cannot_describe_the_record(string change, string path, string message)
    {
        var yaml = change.StartsWith("size") ? LayoutYaml.Replace("size: 48", change)
            : "pinned_map: /sys/fs/bpf/x\nevent_layout:\n  " + change;
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.Bind<EbpfReceiverConfig>(yaml));
        Assert.Contains(path, error.Message);
        Assert.Contains(message, error.Message);
    }

    [Theory]
    [InlineData("program: nginx_requests\npids: [1]", "unknown bundled program")]
    [InlineData("program: http_requests", "select the processes to trace")]
    [InlineData("pinned_map: /sys/fs/bpf/x", "need an event_layout")]
    [InlineData("pinned_map: /sys/fs/bpf/x\nreplay: /tmp/x.rec\nprogram: http_requests", "only one of pinned_map and replay")]
    [InlineData("program: http_requests\npids: [1]\nperf_buffer_pages: 48", "power of two")]
    [InlineData("", "set a source")]
    public void Rejects_inconsistent_sources(string yaml, string message)
    {
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.Bind<EbpfReceiverConfig>(yaml));
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void Accepts_the_shipped_ebpf_agent_sample()
    {
        var config = ConfigLoader.Bind<EbpfReceiverConfig>("program: http_requests\ncomm: [python3, tritonserver]");
        Assert.Equal(["python3", "tritonserver"], config.Comm);
    }

    [Fact]
    public void Decodes_records_into_spans_and_skips_records_shorter_than_the_layout()
    {
        var config = ConfigLoader.Bind<EbpfReceiverConfig>(LayoutYaml);
        var converter = new LayoutEventConverter(EventLayout.From(config.EventLayout!), new MonotonicClock(realtimeMinusMonotonicNs: 1_000_000_000_000));
        var batch = new TelemetryBatch(new ProcessInfoCache(16));
        var record = new byte[56]; // longer than the layout, as perf's padding makes it
        BinaryPrimitives.WriteUInt64LittleEndian(record.AsSpan(8), 5_000);
        BinaryPrimitives.WriteUInt16LittleEndian(record.AsSpan(16), 503);
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(20), (uint)Environment.ProcessId);
        BinaryPrimitives.WriteInt32LittleEndian(record.AsSpan(24), -7);
        "/v1/chat"u8.CopyTo(record.AsSpan(28));
        BinaryPrimitives.WriteUInt64LittleEndian(record.AsSpan(40), 250);

        Assert.True(converter.TryAdd(record, batch));
        Assert.False(converter.TryAdd(record.AsSpan(0, 47), batch));

        var (traces, count) = batch.TakeTraces()!.Value;
        Assert.Equal(1, count);
        var rs = Assert.Single(traces.ResourceSpans);
        var span = Assert.Single(Assert.Single(rs.ScopeSpans).Spans);
        Assert.Equal("inference", span.Name);
        Assert.Equal(1_000_000_005_000UL, span.StartTimeUnixNano);
        Assert.Equal(1_000_000_005_250UL, span.EndTimeUnixNano);
        Assert.Equal(503, span.Attributes.Get("http.response.status_code")!.IntValue);
        Assert.Equal(-7, span.Attributes.Get("delta")!.IntValue);
        Assert.Equal("/v1/chat", span.Attributes.Get("url.path")!.StringValue);
        Assert.Equal(Environment.ProcessId, rs.Resource.Attributes.Get("process.pid")!.IntValue);
    }

    [Fact]
    public void Gauge_points_of_one_name_and_process_share_a_metric_and_the_next_batch_starts_fresh()
    {
        var config = ConfigLoader.Bind<EbpfReceiverConfig>("""
            pinned_map: /sys/fs/bpf/gpu_events
            event_layout:
              signal: metrics
              fields:
                - { name: pid, type: u32, map_to: pid }
                - { name: kind, type: "char[4]", map_to: name }
                - { name: bytes, type: u64, map_to: value }
            """);
        var converter = new LayoutEventConverter(EventLayout.From(config.EventLayout!), new MonotonicClock(0));
        var batch = new TelemetryBatch(new ProcessInfoCache(16));
        byte[] Record(int pid, string kind, ulong value)
        {
            var record = new byte[16];
            BinaryPrimitives.WriteUInt32LittleEndian(record, (uint)pid);
            System.Text.Encoding.ASCII.GetBytes(kind).CopyTo(record, 4);
            BinaryPrimitives.WriteUInt64LittleEndian(record.AsSpan(8), value);
            return record;
        }
        var self = Environment.ProcessId;
        foreach (var (pid, kind, value) in new[] { (self, "rd", 1UL), (self, "wr", 2UL), (self, "rd", 3UL), (0, "rd", 4UL), (self, "rd", 5UL) })
            Assert.True(converter.TryAdd(Record(pid, kind, value), batch));

        var (metrics, points) = batch.TakeMetrics()!.Value;
        Assert.Equal(5, points);
        Assert.Equal(5, OtlpSignal<OtelAi.Otlp.Proto.Collector.Metrics.V1.ExportMetricsServiceRequest>.Instance.CountItems(metrics));
        var byProcess = metrics.ResourceMetrics.ToDictionary(rm => rm.Resource.Attributes.Get("process.pid")?.IntValue ?? 0, rm => Assert.Single(rm.ScopeMetrics).Metrics);
        Assert.Equal([1L, 3, 5], byProcess[self].Single(m => m.Name == "rd").Gauge.DataPoints.Select(p => p.AsInt));
        Assert.Equal([2L], byProcess[self].Single(m => m.Name == "wr").Gauge.DataPoints.Select(p => p.AsInt));
        Assert.Equal([4L], Assert.Single(byProcess[0]).Gauge.DataPoints.Select(p => p.AsInt));

        Assert.True(converter.TryAdd(Record(self, "rd", 6), batch));
        var (next, _) = batch.TakeMetrics()!.Value;
        Assert.Equal([6L], Assert.Single(Assert.Single(Assert.Single(next.ResourceMetrics).ScopeMetrics).Metrics).Gauge.DataPoints.Select(p => p.AsInt));
        Assert.Equal([1L, 3, 5], byProcess[self].Single(m => m.Name == "rd").Gauge.DataPoints.Select(p => p.AsInt)); // the handed-over request is not touched
    }
}
