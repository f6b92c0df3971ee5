using OtelAi.Engine.Config;
using OtelAi.Engine.Settings;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using OtelAi.Engine.Components;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.Exporter;
using OtelAi.Engine.Extensions.FileStorage;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Exporters.Otlp;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.TestSupport;

namespace OtelAi.OtlpExporter.Tests;

/// <summary>sending_queue.storage: file_storage — data accepted by the exporter survives restarts and kill -9.</summary>
public sealed class PersistentQueueTests : IDisposable
{
    private static readonly ComponentId StorageId = ComponentId.Parse("file_storage");
    private static readonly (string, string) Label = ("exporter", "otlp/backend");
    private readonly string _directory = Directory.CreateTempSubdirectory("otelai-pq-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static ByteString FirstSpanId(ExportTraceServiceRequest r) => r.ResourceSpans[0].ScopeSpans[0].Spans[0].SpanId;

    private sealed class Running(FileStorageExtension storage, IExporter<ExportTraceServiceRequest> exporter, MetricRegistry metrics, CapturingLogger log)
    {
        public IExporter<ExportTraceServiceRequest> Exporter => exporter;
        public MetricRegistry Metrics => metrics;
        public CapturingLogger Log => log;

        public async Task StopAsync()
        {
            await exporter.ShutdownAsync(new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
            await storage.ShutdownAsync(CancellationToken.None);
        }
    }

    private async Task<Running> StartAsync(int port)
    {
        var log = new CapturingLogger();
        var metrics = new MetricRegistry();
        var storage = new FileStorageExtension(Settings.For("file_storage", ComponentKind.Extension, log, metrics), new FileStorageConfig { Directory = _directory });
        var host = new TestHost((StorageId, storage));
        await storage.StartAsync(host, CancellationToken.None);
        var config = new OtlpExporterConfig
        {
            Client = new GrpcClientSettings { Endpoint = $"127.0.0.1:{port}", Tls = new TlsClientSettings { Insecure = true } },
            SendingQueue = new QueueConfig { Storage = StorageId, NumConsumers = 2, QueueSize = 50 },
            RetryOnFailure = new RetryConfig { InitialInterval = TimeSpan.FromMilliseconds(50), MaxInterval = TimeSpan.FromMilliseconds(200), MaxElapsedTime = TimeSpan.Zero },
        };
        Assert.Empty(ConfigValidation.Validate(config));
        var exporter = new OtlpExporterFactory().CreateExporter<ExportTraceServiceRequest>(Settings.For("otlp/backend", ComponentKind.Exporter, log, metrics), config);
        await exporter.StartAsync(host, CancellationToken.None);
        return new Running(storage, exporter, metrics, log);
    }

    [Fact]
    public async Task Queued_data_survives_a_restart_and_is_delivered_once_the_backend_is_up()
    {
        var port = TestPorts.GetFree();
        var sent = Enumerable.Range(0, 12).Select(i => SampleData.Traces(3, seed: 500 + i)).ToList();
        var first = await StartAsync(port);
        foreach (var request in sent) await first.Exporter.ConsumeAsync(request.Clone(), CancellationToken.None);
        // The backend is down: every request waits in the queue (the ones being retried count too, as in otelcol).
        Assert.Equal(12, first.Metrics.Read("otelcol_exporter_queue_size", Label, ("data_type", "traces")));
        await first.StopAsync();

        await using var server = await GrpcJsServer.StartAsync(port);
        var second = await StartAsync(port);
        await Poll.UntilAsync(() => server.Requests<ExportTraceServiceRequest>("TraceService").Select(FirstSpanId).ToHashSet().Count == 12, "all 12 requests at the backend");
        Assert.Equal(sent.Select(FirstSpanId).ToHashSet(), server.Requests<ExportTraceServiceRequest>("TraceService").Select(FirstSpanId).ToHashSet());
        Assert.True(second.Log.Contains(LogLevel.Information, "persistent queue restored 12 requests"));
        // Wait until every send was answered and counted: the queue size drops when a send is over, and one still
        // in flight at stop stays stored and is sent again after a restart (at least once, as otelcol).
        await Poll.UntilAsync(() => second.Metrics.Read("otelcol_exporter_sent_spans", Label) == 36, "all 36 spans acknowledged");
        await Poll.UntilAsync(() => second.Metrics.Read("otelcol_exporter_queue_size", Label, ("data_type", "traces")) == 0, "an empty queue");
        await second.StopAsync();

        // Delivered requests were retired: a third start sends nothing again.
        var callsBefore = server.Calls.Count;
        var third = await StartAsync(port);
        await Task.Delay(300);
        Assert.Equal(callsBefore, server.Calls.Count);
        await third.StopAsync();
    }

    // Requests a consumer had taken when the first run stopped are counted neither in the queue size nor as sent.
    [Fact]
    public async Task Disk_full_refuses_new_data_with_a_retryable_error_and_the_exporter_keeps_running()
    {
        var mountPoint = Path.Combine(_directory, "small");
        Directory.CreateDirectory(mountPoint);
        Assert.True(FileStorageTests.RunMount($"-t tmpfs -o size=96k tmpfs {mountPoint}"), "mounting a tmpfs needs root");
        try
        {
            var log = new CapturingLogger();
            var metrics = new MetricRegistry();
            var storage = new FileStorageExtension(Settings.For("file_storage", ComponentKind.Extension, log, metrics), new FileStorageConfig { Directory = mountPoint });
            var host = new TestHost((StorageId, storage));
            await storage.StartAsync(host, CancellationToken.None);
            var config = new OtlpExporterConfig
            {
                Client = new GrpcClientSettings { Endpoint = $"127.0.0.1:{TestPorts.GetFree()}", Tls = new TlsClientSettings { Insecure = true } },
                SendingQueue = new QueueConfig { Storage = StorageId, NumConsumers = 1, QueueSize = 1000 },
            };
            var exporter = new OtlpExporterFactory().CreateExporter<ExportTraceServiceRequest>(Settings.For("otlp/backend", ComponentKind.Exporter, log, metrics), config);
            await exporter.StartAsync(host, CancellationToken.None);

            var (accepted, refused) = await Flood.UntilRefusedAsync(exporter, 200, 20);

            Assert.NotNull(refused);
            Assert.Contains("persistent queue storage failed", refused.Message);
            Assert.True(accepted > 0);
            Assert.True(log.Contains(LogLevel.Error, "disk full or I/O error"));
            Assert.Equal(20, metrics.Read("otelcol_exporter_enqueue_failed_spans", Label));
            await exporter.ShutdownAsync(new CancellationTokenSource(TimeSpan.FromSeconds(5)).Token);
            await storage.ShutdownAsync(CancellationToken.None);
        }
        finally
        {
            FileStorageTests.RunMount(mountPoint, "umount");
        }
    }

    [Fact]
    public async Task A_corrupt_queue_file_is_reported_and_the_intact_requests_are_still_delivered()
    {
        var port = TestPorts.GetFree();
        var first = await StartAsync(port);
        var sent = Enumerable.Range(0, 10).Select(i => SampleData.Traces(3, seed: 700 + i)).ToList();
        foreach (var request in sent) await first.Exporter.ConsumeAsync(request.Clone(), CancellationToken.None);
        await first.StopAsync();
        var file = Path.Combine(_directory, "exporter_otlp_backend_traces");
        var bytes = File.ReadAllBytes(file);
        bytes[bytes.Length * 2 / 3] ^= 0x5A;
        File.WriteAllBytes(file, bytes);

        await using var server = await GrpcJsServer.StartAsync(port);
        var second = await StartAsync(port);
        Assert.True(second.Log.Contains(LogLevel.Error, "is corrupt"));
        var fresh = SampleData.Traces(2, seed: 999);
        await second.Exporter.ConsumeAsync(fresh.Clone(), CancellationToken.None);

        await Poll.UntilAsync(() => server.Requests<ExportTraceServiceRequest>("TraceService").Any(r => FirstSpanId(r) == FirstSpanId(fresh)), "new data to be delivered");
        var delivered = server.Requests<ExportTraceServiceRequest>("TraceService").Select(FirstSpanId).ToHashSet();
        Assert.Contains(FirstSpanId(sent[0]), delivered); // written before the damage
        Assert.All(delivered, id => Assert.True(sent.Any(s => FirstSpanId(s) == id) || id == FirstSpanId(fresh)));
        await second.StopAsync();
    }

    [Trait(OtelaiProcess.Trait, OtelaiProcess.Executable)]
    [Fact]
    public async Task Data_the_engine_acknowledged_before_kill_9_is_delivered_after_restart()
    {
        var receiverPort = TestPorts.GetFree();
        var backendPort = TestPorts.GetFree();
        var config = Path.Combine(_directory, "otelai.yaml");
        File.WriteAllText(config, $"""
            extensions:
              file_storage:
                directory: {_directory}
            receivers:
              otlp:
                protocols:
                  grpc:
                    endpoint: 127.0.0.1:{receiverPort}
            exporters:
              otlp/backend:
                endpoint: 127.0.0.1:{backendPort}
                tls:
                  insecure: true
                sending_queue:
                  storage: file_storage
                  num_consumers: 2
                retry_on_failure:
                  initial_interval: 100ms
                  max_interval: 500ms
                  max_elapsed_time: 0s
            service:
              extensions: [file_storage]
              pipelines:
                traces:
                  receivers: [otlp]
                  exporters: [otlp/backend]
            """);
        // The application side: an OTLP/gRPC client that waits (retries) until the engine listens.
        var client = new OtlpExporterFactory().CreateExporter<ExportTraceServiceRequest>(Settings.For("otlp/app", ComponentKind.Exporter, new CapturingLogger()),
            new OtlpExporterConfig
            {
                Client = new GrpcClientSettings { Endpoint = $"http://127.0.0.1:{receiverPort}" },
                SendingQueue = new QueueConfig { Enabled = false },
                RetryOnFailure = new RetryConfig { InitialInterval = TimeSpan.FromMilliseconds(100), MaxInterval = TimeSpan.FromMilliseconds(300), MaxElapsedTime = TimeSpan.FromSeconds(60) },
            });
        const int requests = 30;
        var sent = Enumerable.Range(0, requests).Select(i => SampleData.Traces(5, seed: 2000 + i)).ToList();

        using (var engine = OtelaiProcess.Start("--config", config))
        {
            foreach (var request in sent) await client.ConsumeAsync(request.Clone(), CancellationToken.None); // each one acknowledged by the engine
            engine.Kill9();
        }

        await using var backend = await GrpcJsServer.StartAsync(backendPort);
        using (var engine = OtelaiProcess.Start("--config", config))
        {
            await Poll.UntilAsync(() => backend.Requests<ExportTraceServiceRequest>("TraceService").Select(FirstSpanId).ToHashSet().SetEquals(sent.Select(FirstSpanId)),
                $"all {requests} acknowledged requests at the backend (engine output: {engine.Output})", TimeSpan.FromSeconds(60));
            engine.Kill9();
        }
        await client.ShutdownAsync(CancellationToken.None);
    }
}
