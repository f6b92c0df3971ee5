using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using OtelAi.Receivers.Ebpf;

namespace OtelAi.Benchmarks;

/// <summary>
/// The ebpf receiver's decode path: 4096 http_requests records (as the perf ring delivers them) become SERVER spans
/// with HTTP attributes, resource enrichment from /proc (cached) and the duration histogram; and 4096 records of a
/// user event_layout (a 40-byte syscall event) become gauge points or spans. The ring reading itself is measured end
/// to end by the perf buffer load test in OtelAi.Ebpf.Tests.
/// </summary>
[MemoryDiagnoser]
public class EbpfBenchmarks
{
    private const int Records = 4096;
    private readonly byte[][] _records = new byte[Records][];
    private readonly byte[][] _syscallRecords = new byte[Records][];
    private HttpRequestConverter _converter = null!;
    private LayoutEventConverter _gauges = null!;
    private LayoutEventConverter _spans = null!;
    private TelemetryBatch _batch = null!;

    [GlobalSetup]
    public void Setup()
    {
        for (var i = 0; i < Records; i++)
        {
            var r = new byte[HttpRequestEvent.Size + 4];
            BinaryPrimitives.WriteUInt64LittleEndian(r, 1_000_000UL * (ulong)i);
            BinaryPrimitives.WriteUInt64LittleEndian(r.AsSpan(8), 1_000_000UL * (ulong)i + 25_000_000);
            BinaryPrimitives.WriteUInt64LittleEndian(r.AsSpan(16), 1_000_000UL * (ulong)i + 5_000_000);
            BinaryPrimitives.WriteInt32LittleEndian(r.AsSpan(40), Environment.ProcessId);
            BinaryPrimitives.WriteUInt16LittleEndian(r.AsSpan(52), (ushort)(i % 10 == 0 ? 500 : 200));
            r[56] = 2;
            new byte[] { 127, 0, 0, 1 }.CopyTo(r.AsSpan(64));
            "POST"u8.CopyTo(r.AsSpan(80));
            System.Text.Encoding.ASCII.GetBytes($"/v1/models/m{i % 4}/infer HTTP/1.1").CopyTo(r.AsSpan(88));
            _records[i] = r;
        }
        for (var i = 0; i < Records; i++)
        {
            var r = new byte[40];
            BinaryPrimitives.WriteUInt64LittleEndian(r, 1_000_000UL * (ulong)i);
            BinaryPrimitives.WriteUInt64LittleEndian(r.AsSpan(8), 1_000_000UL * (ulong)i + 40_000);
            BinaryPrimitives.WriteInt32LittleEndian(r.AsSpan(16), Environment.ProcessId);
            BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(20), (uint)(i % 3));
            BinaryPrimitives.WriteUInt64LittleEndian(r.AsSpan(24), (ulong)i * 512);
            "vllm"u8.CopyTo(r.AsSpan(32));
            _syscallRecords[i] = r;
        }
        _gauges = new LayoutEventConverter(SyscallLayout(EventSignal.Metrics, "value"), new MonotonicClock(0));
        _spans = new LayoutEventConverter(SyscallLayout(EventSignal.Traces, "attributes.bytes"), new MonotonicClock(0));
        _converter = new HttpRequestConverter(new MonotonicClock(0), new RouteTemplates(["/v1/models/{model}/infer"]), durationMetric: true);
        _batch = new TelemetryBatch(new ProcessInfoCache(64));
    }

    private static EventLayout SyscallLayout(EventSignal signal, string bytesTarget) => EventLayout.From(new EventLayoutConfig
    {
        Size = 40,
        Signal = signal,
        Name = "gpu.read",
        Fields =
        [
            new() { Name = "start", Type = "u64", MapTo = signal == EventSignal.Traces ? "start_time" : "time" },
            new() { Name = "end", Type = "u64", MapTo = signal == EventSignal.Traces ? "end_time" : null },
            new() { Name = "pid", Type = "u32", MapTo = "pid" },
            new() { Name = "fd", Type = "u32", MapTo = "attributes.fd" },
            new() { Name = "bytes", Type = "u64", MapTo = bytesTarget },
            new() { Name = "comm", Type = "char[8]", MapTo = "attributes.comm" },
        ],
    });

    [Benchmark(OperationsPerInvoke = Records)]
    public int DecodeLayoutRecordsToGaugePoints()
    {
        foreach (var record in _syscallRecords) _gauges.TryAdd(record, _batch);
        return _batch.TakeMetrics()!.Value.Count;
    }

    [Benchmark(OperationsPerInvoke = Records)]
    public int DecodeLayoutRecordsToSpans()
    {
        foreach (var record in _syscallRecords) _spans.TryAdd(record, _batch);
        return _batch.TakeTraces()!.Value.Count;
    }

    [Benchmark(OperationsPerInvoke = Records)]
    public int DecodeHttpRequestRecords()
    {
        foreach (var record in _records) _converter.TryAdd(record, _batch);
        return _batch.TakeTraces()!.Value.Count;
    }
}
