using System.Buffers.Binary;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using OtelAi.Otlp;
using OtelAi.Receivers.Ebpf;
using OtelAi.TestSupport;

namespace OtelAi.Ebpf.Tests;

/// <summary>Recording a live stream and replaying recordings (the replay path needs no privileges).</summary>
public sealed class RecordReplayTests : IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"otelai-ebpf-{Guid.NewGuid():N}.rec");

    public void Dispose() => File.Delete(_file);

    [Fact]
    public async Task Records_a_pinned_perf_array_and_replays_it_with_the_original_wall_clock_times()
    {
        using var producer = new EbpfEventProducer();
        var layout = EbpfEventProducer.Layout(EventSignal.Traces);
        var recording = EbpfRecordCommand.RecordAsync(new EbpfReceiverConfig { PinnedMap = producer.PerfMap, EventLayout = layout },
            _file, TimeSpan.FromSeconds(3), NullLogger.Instance, CancellationToken.None);
        var before = (ulong)(DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;
        producer.Generate(200);
        var after = (ulong)(DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;
        var result = await recording;
        Assert.Equal(200, result.Samples);
        Assert.Contains("perf event array", result.Source);

        await using var receiver = new ReceiverUnderTest(new EbpfReceiverConfig { Replay = _file, EventLayout = layout });
        await receiver.StartAsync();
        await ReceiverUnderTest.WaitUntil(() => receiver.Spans().Count >= 200, "200 replayed spans");
        Assert.All(receiver.Spans(), s => Assert.InRange(s.Span.StartTimeUnixNano, before - 5_000_000_000UL, after + 5_000_000_000UL));
        Assert.Equal(200, receiver.Settings.Metrics.Read("otelai_receiver_ebpf_records", ("receiver", "ebpf")));
    }

    [Fact]
    public async Task Replays_http_request_records_into_spans_and_a_duration_histogram()
    {
        const long offset = 1_700_000_000_000_000_000; // the recording machine's CLOCK_REALTIME − CLOCK_MONOTONIC
        using (var writer = new RecordFileWriter(File.Create(_file), offset))
        {
            writer.OnSample(0, HttpRecord(start: 1_000_000, end: 251_000_000, firstByte: 200_000_000, status: 200, method: "POST", path: "/v1/completions HTTP/1.1\r\nHost"));
            writer.OnLost(1, 3);
            writer.OnSample(1, HttpRecord(start: 2_000_000, end: 2_500_000, firstByte: 2_400_000, status: 502, method: "GET", path: "/metrics?x=1", peer: IPAddress.Parse("fd00::7")));
            writer.OnSample(1, new byte[100]); // shorter than the layout: counted and skipped
        }
        await using var receiver = new ReceiverUnderTest(new EbpfReceiverConfig
        {
            Replay = _file,
            Program = EbpfReceiverConfig.HttpRequestsProgram,
            RouteTemplates = ["/v1/completions"],
            MetricsInterval = TimeSpan.FromMilliseconds(200),
        });
        await receiver.StartAsync();

        await ReceiverUnderTest.WaitUntil(() => receiver.Spans().Count == 2 && receiver.Metrics.Payloads.Count > 0, "2 spans and the histogram");
        var spans = receiver.Spans().Select(s => s.Span).OrderBy(s => s.StartTimeUnixNano).ToList();
        Assert.Equal("POST /v1/completions", spans[0].Name);
        Assert.Equal((ulong)(offset + 1_000_000), spans[0].StartTimeUnixNano);
        Assert.Equal((ulong)(offset + 251_000_000), spans[0].EndTimeUnixNano);
        Assert.Equal(199_000_000, spans[0].Attributes.Get("otelai.http.time_to_first_byte_ns")!.IntValue);
        Assert.Equal("10.1.2.3", spans[0].Attributes.Get("network.peer.address")!.StringValue);
        Assert.Equal(40_000, spans[0].Attributes.Get("network.peer.port")!.IntValue);
        Assert.Equal("/metrics", spans[1].Attributes.Get("url.path")!.StringValue);
        Assert.Equal("fd00::7", spans[1].Attributes.Get("network.peer.address")!.StringValue);
        Assert.Equal(OtelAi.Otlp.Proto.Trace.V1.Status.Types.StatusCode.Error, spans[1].Status.Code);
        Assert.Equal(3, receiver.Settings.Metrics.Read("otelai_receiver_ebpf_lost_events", ("receiver", "ebpf")));
        Assert.Equal(1, receiver.Settings.Metrics.Read("otelai_receiver_ebpf_short_records", ("receiver", "ebpf")));

        var histogram = receiver.Metrics.Payloads.SelectMany(r => r.ResourceMetrics).SelectMany(rm => rm.ScopeMetrics).SelectMany(sm => sm.Metrics)
            .Last(m => m.Name == "http.server.request.duration").Histogram;
        var post = histogram.DataPoints.Single(p => p.Attributes.Get("http.request.method")!.StringValue == "POST");
        Assert.Equal(1UL, post.Count);
        Assert.Equal(0.25, post.Sum, 6);
        Assert.Equal(1UL, post.BucketCounts[6]); // bucket 6 is (0.1, 0.25]: 0.25 s belongs there
    }

    private static byte[] HttpRecord(ulong start, ulong end, ulong firstByte, ushort status, string method, string path, IPAddress? peer = null)
    {
        var r = new byte[HttpRequestEvent.Size + 4]; // perf pads raw samples: longer than the struct
        BinaryPrimitives.WriteUInt64LittleEndian(r, start);
        BinaryPrimitives.WriteUInt64LittleEndian(r.AsSpan(8), end);
        BinaryPrimitives.WriteUInt64LittleEndian(r.AsSpan(16), firstByte);
        BinaryPrimitives.WriteUInt64LittleEndian(r.AsSpan(24), 512);
        BinaryPrimitives.WriteUInt64LittleEndian(r.AsSpan(32), 2048);
        BinaryPrimitives.WriteInt32LittleEndian(r.AsSpan(40), Environment.ProcessId);
        BinaryPrimitives.WriteInt32LittleEndian(r.AsSpan(44), Environment.ProcessId + 1);
        BinaryPrimitives.WriteInt32LittleEndian(r.AsSpan(48), 7);
        BinaryPrimitives.WriteUInt16LittleEndian(r.AsSpan(52), status);
        peer ??= IPAddress.Parse("10.1.2.3");
        BinaryPrimitives.WriteUInt16LittleEndian(r.AsSpan(54), 40_000);
        r[56] = (byte)(peer.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 2 : 10);
        peer.GetAddressBytes().CopyTo(r.AsSpan(64));
        System.Text.Encoding.ASCII.GetBytes(method).CopyTo(r.AsSpan(80));
        var pathBytes = System.Text.Encoding.ASCII.GetBytes(path);
        pathBytes.AsSpan(0, Math.Min(80, pathBytes.Length)).CopyTo(r.AsSpan(88));
        return r;
    }
}
