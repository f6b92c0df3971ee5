using System.Collections.Concurrent;
using System.Diagnostics;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using OtelAi.Engine.Components;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.Exporter;
using OtelAi.Engine.Extensions.FileStorage;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Exporters.Otlp;
using OtelAi.Proto.Collector.Trace.V1;
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
            Endpoint = $"127.0.0.1:{port}",
            Tls = new TlsClientConfig { Insecure = true },
            SendingQueue = new QueueConfig { Storage = StorageId, NumConsumers = 2, QueueSize = 50 },
            RetryOnFailure = new RetryConfig { InitialInterval = TimeSpan.FromMilliseconds(50), MaxInterval = TimeSpan.FromMilliseconds(200), MaxElapsedTime = TimeSpan.Zero },
        };
        Assert.Empty(config.Validate());
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
        Assert.Equal(12, first.Metrics.Read("otelcol_exporter_queue_size", Label, ("data_type", "traces")) + InFlight(first));
        await first.StopAsync();

        await using var server = await GrpcJsServer.StartAsync(port);
        var second = await StartAsync(port);
        await Poll.UntilAsync(() => server.Requests<ExportTraceServiceRequest>("TraceService").Select(FirstSpanId).ToHashSet().Count == 12, "all 12 requests at the backend");
        Assert.Equal(sent.Select(FirstSpanId).ToHashSet(), server.Requests<ExportTraceServiceRequest>("TraceService").Select(FirstSpanId).ToHashSet());
        Assert.True(second.Log.Contains(LogLevel.Information, "persistent queue restored 12 requests"));
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
    private static double InFlight(Running running) => 12 - running.Metrics.Read("otelcol_exporter_queue_size", Label, ("data_type", "traces"))!.Value;

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
                Endpoint = $"127.0.0.1:{TestPorts.GetFree()}",
                Tls = new TlsClientConfig { Insecure = true },
                SendingQueue = new QueueConfig { Storage = StorageId, NumConsumers = 1, QueueSize = 1000 },
            };
            var exporter = new OtlpExporterFactory().CreateExporter<ExportTraceServiceRequest>(Settings.For("otlp/backend", ComponentKind.Exporter, log, metrics), config);
            await exporter.StartAsync(host, CancellationToken.None);

            RetryableDataException? refused = null;
            var accepted = 0;
            for (var i = 0; i < 200 && refused is null; i++)
            {
                try
                {
                    await exporter.ConsumeAsync(SampleData.Traces(20, seed: i), CancellationToken.None);
                    accepted++;
                }
                catch (RetryableDataException e)
                {
                    refused = e;
                }
            }

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

    [Fact]
    public async Task Data_acknowledged_before_kill_9_is_delivered_after_restart()
    {
        var port = TestPorts.GetFree();
        const int requests = 40;
        using (var filler = QueueHost.Start("fill", _directory, port, requests))
        {
            await filler.WaitForLineAsync("READY");
            Assert.Equal(requests, filler.Lines.Count(l => l.StartsWith("ACK ", StringComparison.Ordinal)));
            filler.Kill9();
        }

        await using var server = await GrpcJsServer.StartAsync(port);
        using var drainer = QueueHost.Start("drain", _directory, port);
        var expected = Enumerable.Range(0, requests).Select(i => FirstSpanId(SampleData.Traces(5, seed: 1000 + i))).ToHashSet();
        await Poll.UntilAsync(() => server.Requests<ExportTraceServiceRequest>("TraceService").Select(FirstSpanId).ToHashSet().SetEquals(expected),
            $"all {requests} acknowledged requests at the backend", TimeSpan.FromSeconds(60));
        drainer.Kill9();
    }

    /// <summary>The OtelAi.QueueHost child process (built with this test project).</summary>
    private sealed class QueueHost : IDisposable
    {
        private readonly Process _process;
        public ConcurrentQueue<string> Lines { get; } = new();

        private QueueHost(Process process)
        {
            _process = process;
            _process.OutputDataReceived += (_, e) => { if (e.Data is not null) Lines.Enqueue(e.Data); };
            _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Lines.Enqueue("stderr: " + e.Data); };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public static QueueHost Start(string mode, string directory, int port, int requests = 0)
        {
            var dll = Path.Combine(AppContext.BaseDirectory, "OtelAi.QueueHost.dll");
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var arg in new[] { dll, mode, directory, port.ToString(), requests.ToString() }) start.ArgumentList.Add(arg);
            return new QueueHost(Process.Start(start)!);
        }

        public async Task WaitForLineAsync(string line) =>
            await Poll.UntilAsync(() => Lines.Contains(line) || _process.HasExited, $"\"{line}\" from the queue host")
                .ContinueWith(t => Assert.True(Lines.Contains(line), $"queue host: {string.Join('\n', Lines)}"));

        /// <summary>SIGKILL: no shutdown code runs.</summary>
        public void Kill9()
        {
            if (!_process.HasExited) _process.Kill();
            _process.WaitForExit();
        }

        public void Dispose()
        {
            Kill9();
            _process.Dispose();
        }
    }
}
