using BenchmarkDotNet.Attributes;
using Google.Protobuf;
using OtelAi.Engine.Components;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Otlp.Proto.Trace.V1;
using OtelAi.Processors.TailSampling;
using OtelAi.TestSupport;

namespace OtelAi.Benchmarks;

/// <summary>
/// tail_sampling's ingest path: 500 requests of 100 spans with 20 string attributes each (10 spans per trace, so
/// 5,000 new traces per invocation) are buffered; decision_wait is long, so nothing is decided while measuring.
/// Requests are built per iteration (the processor keeps the spans it is given); the buffer is emptied between
/// iterations by a shutdown that drops the pending traces.
/// </summary>
[MemoryDiagnoser]
public class TailSamplingBenchmarks
{
    private const int Requests = 500;
    private const int SpansPerRequest = 100;
    private const int SpansPerTrace = 10;

    private ExportTraceServiceRequest[] _requests = [];
    private TailSamplingProcessor _processor = null!;
    private int _round;

    [IterationSetup]
    public void Setup()
    {
        _round++;
        var template = SampleData.Traces(SpansPerRequest);
        foreach (var span in template.ResourceSpans[0].ScopeSpans[0].Spans)
            for (var a = span.Attributes.Count; a < 20; a++) span.Attributes.Add(SampleData.Attr($"attribute.{a}", $"value-{a}-of-a-typical-length"));
        _requests = new ExportTraceServiceRequest[Requests];
        for (var r = 0; r < Requests; r++)
        {
            var request = template.Clone();
            var spans = request.ResourceSpans[0].ScopeSpans[0].Spans;
            for (var s = 0; s < spans.Count; s++)
                spans[s].TraceId = TraceId(_round, r * SpansPerRequest / SpansPerTrace + s / SpansPerTrace);
            _requests[r] = request;
        }
        var settings = TestSettings.For(new ComponentId("tail_sampling"), ComponentKind.Processor);
        _processor = new TailSamplingProcessor(settings, new TailSamplingConfig
        {
            DecisionWait = TimeSpan.FromMinutes(10),
            NumTraces = 100_000,
            DropPendingTracesOnShutdown = true,
            Policies = [new PolicyConfig { Name = "errors", Type = "status_code", StatusCode = new() { StatusCodes = ["ERROR"] } }],
        }, new Discard<ExportTraceServiceRequest>());
        _processor.StartAsync(new TestHost(), CancellationToken.None).GetAwaiter().GetResult();
    }

    [IterationCleanup]
    public void Cleanup() => _processor.ShutdownAsync(CancellationToken.None).GetAwaiter().GetResult();

    [Benchmark(Description = "buffer 50,000 spans (5,000 traces, 20 attributes per span)", OperationsPerInvoke = Requests * SpansPerRequest)]
    public async Task Ingest()
    {
        foreach (var request in _requests) await _processor.ConsumeAsync(request, CancellationToken.None);
    }

    private static ByteString TraceId(int round, int trace)
    {
        var bytes = new byte[16];
        BitConverter.TryWriteBytes(bytes.AsSpan(0, 4), round);
        BitConverter.TryWriteBytes(bytes.AsSpan(8, 4), trace);
        bytes[15] = 1;
        return ByteString.CopyFrom(bytes);
    }
}
