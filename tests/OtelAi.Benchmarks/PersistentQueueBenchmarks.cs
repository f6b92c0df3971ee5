using OtelAi.Otlp;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using OtelAi.Engine.Components;
using OtelAi.Engine.Exporter;
using OtelAi.Engine.Extensions.FileStorage;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.TestSupport;

namespace OtelAi.Benchmarks;

/// <summary>
/// Throughput of <c>sending_queue.storage: file_storage</c>: requests offered to the exporter helper are written to
/// the storage file, taken, handed to a sender that accepts at once, and retired. One operation is
/// <see cref="Requests"/> requests of <see cref="SpansPerRequest"/> spans, through to the last one retired.
/// </summary>
[MemoryDiagnoser]
public class PersistentQueueBenchmarks
{
    private static readonly ComponentId StorageId = ComponentId.Parse("file_storage");
    private string _directory = null!;
    private FileStorageExtension _storage = null!;
    private ExporterHelper<ExportTraceServiceRequest> _exporter = null!;
    private CountingSender _sender = null!;
    private ExportTraceServiceRequest _request = null!;

    [Params(200)]
    public int Requests { get; set; }

    [Params(100, 8192)]
    public int SpansPerRequest { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _directory = Directory.CreateTempSubdirectory("otelai-pq-bench-").FullName;
        var settings = new ComponentCreateSettings(StorageId, ComponentKind.Extension, NullLogger.Instance, new MetricRegistry(), BuildInfo.Current);
        _storage = new FileStorageExtension(settings, new FileStorageConfig { Directory = _directory });
        var host = new TestHost((StorageId, _storage));
        _storage.StartAsync(host, CancellationToken.None).GetAwaiter().GetResult();
        _sender = new CountingSender();
        var options = new ExporterHelperOptions(TimeSpan.Zero, new RetryConfig(), new QueueConfig { Storage = StorageId, QueueSize = 100_000 });
        _exporter = new ExporterHelper<ExportTraceServiceRequest>(settings with { Id = ComponentId.Parse("otlp"), Kind = ComponentKind.Exporter }, options, _sender);
        _exporter.StartAsync(host, CancellationToken.None).GetAwaiter().GetResult();
        _request = SampleData.Traces(SpansPerRequest);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _exporter.ShutdownAsync(CancellationToken.None).GetAwaiter().GetResult();
        _storage.ShutdownAsync(CancellationToken.None).GetAwaiter().GetResult();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(Description = "offer, store, take, send, retire")]
    public async Task OfferAndDrain()
    {
        var target = _sender.Sent + Requests;
        for (var i = 0; i < Requests; i++) await _exporter.ConsumeAsync(_request, CancellationToken.None);
        while (_sender.Sent < target) await Task.Delay(1);
    }

    private sealed class CountingSender : IExportSender<ExportTraceServiceRequest>
    {
        private long _sent;

        public long Sent => Interlocked.Read(ref _sent);

        public ValueTask<SendResult> SendAsync(Payload<ExportTraceServiceRequest> request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _sent);
            return ValueTask.FromResult(SendResult.Success);
        }
    }
}
