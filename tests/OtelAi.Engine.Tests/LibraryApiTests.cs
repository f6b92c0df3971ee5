using Microsoft.Extensions.Logging.Abstractions;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Otlp.Json;
using OtelAi.Exporters.FileOutput;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Receivers.OtlpJsonFile;
using OtelAi.TestSupport;

namespace OtelAi.Engine.Tests;

/// <summary>A .NET service running a collector in-process with the shipped components, as the README shows.</summary>
public sealed class LibraryApiTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("otelai-lib-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task FromYaml_runs_otlpjsonfile_to_two_file_exporters_and_debug_with_every_item_unchanged()
    {
        var traces = SampleData.Traces(20);
        var metrics = SampleData.Metrics(15);
        var logs = SampleData.Logs(10);
        await WriteInputAsync(traces, metrics, logs);

        await using var collector = Collector.FromYaml($"""
            receivers:
              otlpjsonfile:
                include: ["{_dir}/in/*.jsonl"]
                start_at: beginning
            processors:
              batch:
            exporters:
              file/a:
                path: {_dir}/a.jsonl
              file/b:
                path: {_dir}/b.jsonl
              debug:
                verbosity: basic
            service:
              pipelines:
                traces:
                  receivers: [otlpjsonfile]
                  processors: [batch]
                  exporters: [file/a, file/b, debug]
                metrics:
                  receivers: [otlpjsonfile]
                  processors: [batch]
                  exporters: [file/a, file/b, debug]
                logs:
                  receivers: [otlpjsonfile]
                  processors: [batch]
                  exporters: [file/a, file/b, debug]
              telemetry:
                metrics:
                  level: none
            """, BuiltinComponents.CreateRegistry(), new CollectorOptions { LoggerFactory = NullLoggerFactory.Instance });
        await collector.StartAsync();
        await Harness.Eventually(() => collector.Metrics.Sum("otelcol_receiver_accepted_log_records") == 10
            && collector.Metrics.Sum("otelcol_receiver_accepted_spans") == 20
            && collector.Metrics.Sum("otelcol_receiver_accepted_metric_points") == 15, "the receiver to read every item");
        await collector.StopAsync();

        foreach (var file in new[] { "a.jsonl", "b.jsonl" })
        {
            var lines = await File.ReadAllLinesAsync(Path.Combine(_dir, file));
            Assert.Equal(traces.ResourceSpans, Decode<ExportTraceServiceRequest>(lines).SelectMany(r => r.ResourceSpans));
            Assert.Equal(metrics.ResourceMetrics, Decode<ExportMetricsServiceRequest>(lines).SelectMany(r => r.ResourceMetrics));
            Assert.Equal(logs.ResourceLogs, Decode<ExportLogsServiceRequest>(lines).SelectMany(r => r.ResourceLogs));
        }
    }

    [Fact]
    public async Task Fluent_builder_runs_the_same_pipeline_with_typed_configs()
    {
        var traces = SampleData.Traces(8);
        await WriteInputAsync(traces);

        await using var collector = new CollectorBuilder(BuiltinComponents.CreateRegistry())
            .WithTelemetry(Harness.QuietTelemetry)
            .AddReceiver("otlpjsonfile", new OtlpJsonFileReceiverConfig { Include = [$"{_dir}/in/*.jsonl"], StartAt = OtlpJsonFileStartAt.Beginning })
            .AddProcessor("batch")
            .AddExporter("file", new FileExporterConfig { Path = Path.Combine(_dir, "out.jsonl") })
            .AddPipeline("traces", receivers: ["otlpjsonfile"], processors: ["batch"], exporters: ["file"])
            .Build(Harness.QuietOptions);
        await collector.StartAsync();
        await Harness.Eventually(() => collector.Metrics.Sum("otelcol_receiver_accepted_spans") == 8, "the receiver to read 8 spans");
        await collector.StopAsync();

        var lines = await File.ReadAllLinesAsync(Path.Combine(_dir, "out.jsonl"));
        Assert.Equal(traces.ResourceSpans, Decode<ExportTraceServiceRequest>(lines).SelectMany(r => r.ResourceSpans));
    }

    [Fact]
    public void FromYaml_reports_config_and_graph_errors_with_locations()
    {
        var error = Assert.Throws<ConfigException>(() => Collector.FromYaml("""
            receivers:
              otlp:
                protocols:
                  grpc:
            exporters:
              debug:
            service:
              pipelines:
                logs:
                  receivers: [otlp]
                  exporters: [debug, file]
            """, BuiltinComponents.CreateRegistry()));

        var issue = Assert.Single(error.Issues);
        Assert.Equal("service.pipelines.logs.exporters[1]", issue.KeyPath);
        Assert.Equal(new SourceLocation(ConfigLoader.InlineSourceName, 11, 26), issue.Location);
    }

    [Fact]
    public async Task User_component_types_register_beside_the_shipped_ones()
    {
        var log = new LifecycleLog();
        var registry = BuiltinComponents.CreateRegistry().Add(new TestReceiverFactory(log)).Add(new CollectingExporterFactory(log));
        await using var collector = Collector.FromYaml("""
            receivers:
              testrecv:
            processors:
              batch:
                timeout: 10ms
            exporters:
              collect:
            service:
              pipelines:
                traces:
                  receivers: [testrecv]
                  processors: [batch]
                  exporters: [collect]
              telemetry:
                metrics:
                  level: none
            """, registry, Harness.QuietOptions);
        await collector.StartAsync();
        var sent = SampleData.Traces(3);
        await Harness.Receiver(collector).SendAsync(sent.Clone());
        var exporter = Harness.Exporter<ExportTraceServiceRequest>(collector, "collect");
        await Harness.Eventually(() => exporter.ItemCount == 3, "the batch to reach the exporter");
        Assert.Equal(sent.ResourceSpans, exporter.Exported.SelectMany(r => r.ResourceSpans));
    }

    private async Task WriteInputAsync(params Google.Protobuf.IMessage[] requests)
    {
        Directory.CreateDirectory(Path.Combine(_dir, "in"));
        await File.WriteAllLinesAsync(Path.Combine(_dir, "in", "data.jsonl"), requests.Select(r => OtlpJson.ToJson(r)));
    }

    // file exporter lines hold one signal each; a line parses as the request type whose top-level key it has.
    private static IEnumerable<T> Decode<T>(IEnumerable<string> lines) where T : class, Google.Protobuf.IMessage<T>, new()
    {
        var key = typeof(T) == typeof(ExportTraceServiceRequest) ? "\"resourceSpans\""
            : typeof(T) == typeof(ExportMetricsServiceRequest) ? "\"resourceMetrics\"" : "\"resourceLogs\"";
        return lines.Where(l => l.Contains(key)).Select(OtlpJson.Parse<T>);
    }
}
