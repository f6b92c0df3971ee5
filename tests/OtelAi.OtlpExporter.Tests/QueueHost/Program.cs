// usage: OtelAi.QueueHost <fill|drain> <storage directory> <backend port> [requests]
// fill: queue <requests> trace requests (5 spans each, seeds 1000..) and print "ACK <i>" after each is accepted,
//       then "READY"; drain: only start, so the persistent queue is sent. Both run until killed.
using Microsoft.Extensions.Logging;
using OtelAi.Engine.Components;
using OtelAi.Engine.Exporter;
using OtelAi.Engine.Extensions.FileStorage;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Exporters.Otlp;
using OtelAi.Proto.Collector.Trace.V1;
using OtelAi.TestSupport;

var mode = args[0];
var directory = args[1];
var port = int.Parse(args[2]);
var requests = args.Length > 3 ? int.Parse(args[3]) : 0;

using var loggerFactory = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Information));
ComponentCreateSettings Settings(string id, ComponentKind kind) =>
    new(ComponentId.Parse(id), kind, loggerFactory.CreateLogger(id), new MetricRegistry(), BuildInfo.Current);

var storageId = ComponentId.Parse("file_storage");
var storage = new FileStorageExtension(Settings("file_storage", ComponentKind.Extension), new FileStorageConfig { Directory = directory });
await storage.StartAsync(new Host(storageId, storage), CancellationToken.None);

var config = new OtlpExporterConfig
{
    Endpoint = $"127.0.0.1:{port}",
    Tls = new TlsClientConfig { Insecure = true },
    SendingQueue = new QueueConfig { Storage = storageId, NumConsumers = 2, QueueSize = 1000 },
    RetryOnFailure = new RetryConfig { InitialInterval = TimeSpan.FromMilliseconds(100), MaxInterval = TimeSpan.FromMilliseconds(500), MaxElapsedTime = TimeSpan.Zero },
};
var exporter = new OtlpExporterFactory().CreateExporter<ExportTraceServiceRequest>(Settings("otlp/backend", ComponentKind.Exporter), config);
await exporter.StartAsync(new Host(storageId, storage), CancellationToken.None);

if (mode == "fill")
{
    for (var i = 0; i < requests; i++)
    {
        await exporter.ConsumeAsync(SampleData.Traces(5, seed: 1000 + i), CancellationToken.None);
        Console.WriteLine($"ACK {i}");
    }
}
Console.WriteLine("READY");
await Task.Delay(Timeout.Infinite);

internal sealed class Host(ComponentId storageId, IComponent storage) : IComponentHost
{
    public IComponent? GetExtension(ComponentId id) => id == storageId ? storage : null;

    public void ReportFatalError(ComponentId source, Exception error) => Console.Error.WriteLine($"fatal error from {source}: {error}");
}
