using BenchmarkDotNet.Attributes;
using OtelAi.Engine.Components;
using OtelAi.Engine.Consumers;
using OtelAi.Otlp;
using OtelAi.Processors.Batch;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.TestSupport;

namespace OtelAi.Benchmarks;

/// <summary>
/// The batch processor end to end: 100-span requests go in, batches of exactly <see cref="BatchSize"/> spans
/// (send_batch_size = send_batch_max_size, so batches are split) come out to a counting consumer. One invocation
/// sends 4096 requests (409,600 spans) and waits until the last batch arrived, so the batcher task's work is
/// inside the measured time. Each request is a fresh clone of a template (the processor takes ownership of what
/// it receives); <see cref="CloneOnly"/> measures that cost alone, so batching's own cost is the difference.
/// </summary>
[MemoryDiagnoser]
public class BatchProcessorBenchmarks
{
    private const int Requests = 4096;
    private const int SpansPerRequest = 100;

    private ExportTraceServiceRequest _template = null!;
    private BatchProcessor<ExportTraceServiceRequest> _processor = null!;
    private CountingSink _sink = null!;
    private ExportTraceServiceRequest? _last;

    /// <summary>send_batch_size = send_batch_max_size; 409,600 spans per invocation is a whole number of batches for both.</summary>
    [Params(1024, 8192)]
    public int BatchSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _template = SampleData.Traces(SpansPerRequest);
        _sink = new CountingSink();
        var settings = TestSettings.For(new ComponentId("batch"), ComponentKind.Processor);
        _processor = new BatchProcessor<ExportTraceServiceRequest>(settings,
            new BatchConfig { SendBatchSize = BatchSize, SendBatchMaxSize = BatchSize, Timeout = TimeSpan.FromMilliseconds(200) }, _sink);
    }

    [GlobalCleanup]
    public void Cleanup() => _processor.ShutdownAsync(CancellationToken.None).GetAwaiter().GetResult();

    [Benchmark(Baseline = true, OperationsPerInvoke = Requests, Description = "clone a 100-span request (baseline)")]
    public ExportTraceServiceRequest? CloneOnly()
    {
        for (var i = 0; i < Requests; i++) _last = _template.Clone();
        return _last;
    }

    [Benchmark(OperationsPerInvoke = Requests, Description = "clone + batch a 100-span request")]
    public async Task CloneAndBatch()
    {
        var target = _sink.Spans + (long)Requests * SpansPerRequest;
        var arrived = _sink.WhenReached(target);
        for (var i = 0; i < Requests; i++) await _processor.ConsumeAsync(_template.Clone(), CancellationToken.None);
        await arrived;
    }

    private sealed class CountingSink : ITelemetryConsumer<ExportTraceServiceRequest>
    {
        private long _spans;
        private long _target = long.MaxValue;
        private TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public long Spans => Interlocked.Read(ref _spans);

        public Task WhenReached(long target)
        {
            _reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _target, target);
            if (Spans >= target) _reached.TrySetResult();
            return _reached.Task;
        }

        public ValueTask ConsumeAsync(Payload<ExportTraceServiceRequest> data, CancellationToken cancellationToken)
        {
            var total = Interlocked.Add(ref _spans, data.ItemCount);
            if (total >= Volatile.Read(ref _target)) _reached.TrySetResult();
            return ValueTask.CompletedTask;
        }
    }
}
