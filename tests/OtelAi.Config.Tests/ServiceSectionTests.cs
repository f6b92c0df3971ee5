using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Otlp;

namespace OtelAi.Config.Tests;

public class ServiceSectionTests
{
    [Fact]
    public void PipelinesAndExtensionsBindToIds()
    {
        var config = TestLoad.Yaml("""
            service:
              extensions: [health_check, file_storage/queue]
              pipelines:
                traces:
                  receivers: [otlp]
                  processors: [batch]
                  exporters: [debug, otlphttp/backend]
                metrics/gpu:
                  receivers: [otlp/2]
                  exporters: [debug]
                logs:
            """).Config;
        Assert.Equal([new ComponentId("health_check"), new ComponentId("file_storage", "queue")], config.ServiceExtensions);
        var traces = config.Pipelines[new PipelineId(Signal.Traces)];
        Assert.Equal([new ComponentId("otlp")], traces.Receivers);
        Assert.Equal([new ComponentId("batch")], traces.Processors);
        Assert.Equal([new ComponentId("debug"), new ComponentId("otlphttp", "backend")], traces.Exporters);
        Assert.Equal([new ComponentId("otlp", "2")], config.Pipelines[new PipelineId(Signal.Metrics, "gpu")].Receivers);
        Assert.Empty(config.Pipelines[new PipelineId(Signal.Logs)].Receivers);
    }

    [Fact]
    public void EveryKeyPathAndListItemHasALocation()
    {
        var source = TestLoad.Yaml("""
            receivers:
              otlp/2:
                protocols:
                  grpc:
                    endpoint: localhost:5317
            service:
              pipelines:
                traces:
                  receivers: [otlp/2]
                  exporters:
                    - debug
                    - file
            """).Config.Source;
        Assert.Equal(TestLoad.At(2, 3), source.Locate("receivers.otlp/2"));
        Assert.Equal(TestLoad.At(5, 9), source.Locate("receivers.otlp/2.protocols.grpc.endpoint"));
        Assert.Equal(TestLoad.At(9, 19), source.Locate("service.pipelines.traces.receivers[0]"));
        Assert.Equal(TestLoad.At(11, 11), source.Locate("service.pipelines.traces.exporters[0]"));
        Assert.Equal(TestLoad.At(12, 11), source.Locate("service.pipelines.traces.exporters[1]"));
        // A path without its own entry resolves to its closest ancestor.
        Assert.Equal(TestLoad.At(5, 9), source.Locate("receivers.otlp/2.protocols.grpc.endpoint.port"));
    }

    [Fact]
    public void TelemetryDefaultsAreOtelcols()
    {
        var telemetry = TestLoad.Yaml("service:\n  pipelines:\n").Config.Telemetry;
        Assert.Equal("info", telemetry.Logs.Level);
        Assert.Equal("normal", telemetry.Metrics.Level);
        Assert.Equal("localhost:8888", telemetry.Metrics.Address);
    }

    [Fact]
    public void TelemetryLevelsAreCaseInsensitive()
    {
        var telemetry = TestLoad.Yaml("service:\n  telemetry:\n    logs: {level: DEBUG, encoding: json}\n    metrics: {level: Detailed, address: 0.0.0.0:9999}\n").Config.Telemetry;
        Assert.Equal("debug", telemetry.Logs.Level);
        Assert.Equal("json", telemetry.Logs.Encoding);
        Assert.Equal("detailed", telemetry.Metrics.Level);
        Assert.Equal("0.0.0.0:9999", telemetry.Metrics.Address);
    }

    [Fact]
    public void NewerOtelcolMetricReadersSetTheAddress()
    {
        var loaded = TestLoad.Yaml("""
            service:
              telemetry:
                metrics:
                  level: basic
                  readers:
                    - pull:
                        exporter:
                          prometheus:
                            host: 0.0.0.0
                            port: 9464
            """);
        Assert.Equal("0.0.0.0:9464", loaded.Config.Telemetry.Metrics.Address);
        Assert.Equal("basic", loaded.Config.Telemetry.Metrics.Level);
        Assert.Empty(loaded.Warnings);
    }

    [Fact]
    public void PushReadersWithoutAnOtlpExporterAreReportedAndNoPullReaderMeansNoScrapeEndpoint()
    {
        var loaded = TestLoad.Yaml("""
            service:
              telemetry:
                metrics:
                  readers:
                    - periodic:
                        exporter:
                          console: {}
            """);
        Assert.Equal("", loaded.Config.Telemetry.Metrics.Address); // as otelcol: readers replace the default pull endpoint
        Assert.Empty(loaded.Config.Telemetry.Metrics.PushReaders);
        var warning = Assert.Single(loaded.Warnings);
        Assert.Equal("service.telemetry.metrics.readers[0].periodic.exporter", warning.KeyPath);
        Assert.Contains("otlp, otlp_http or otlp_grpc", warning.Message);

        var missing = Assert.Throws<ConfigException>(() => TestLoad.Yaml("""
            service:
              telemetry:
                metrics:
                  readers:
                    - periodic: {exporter: {otlp: {protocol: grpc, endpoint: http://x:4317}}}
            """));
        Assert.Contains("pushing self-metrics needs the otlp exporter", missing.Message); // this test registry has no otlp exporter
    }

    [Fact]
    public void OtelcolTelemetrySettingsOtelaiDoesNotUseAreWarnings()
    {
        var loaded = TestLoad.Yaml("""
            service:
              telemetry:
                resource:
                  service.name: gateway
                logs:
                  level: warn
                  sampling:
                    enabled: false
                  output_paths: [stderr]
            """);
        Assert.Equal("warn", loaded.Config.Telemetry.Logs.Level);
        Assert.False(loaded.Config.Telemetry.Logs.Sampling.Enabled); // sampling is used (otelcol's keys and defaults)
        Assert.Equal("gateway", loaded.Config.Telemetry.Resource["service.name"]); // resource names the service in the self-metrics
        Assert.Equal(["service.telemetry.logs.output_paths"], loaded.Warnings.Select(w => w.KeyPath));
        Assert.All(loaded.Warnings, w => Assert.Equal("accepted for otelcol compatibility but not used by otelai", w.Message));
    }

    [Fact]
    public void UnknownTelemetryKeyIsStillAnError()
    {
        var error = TestLoad.SingleError("service:\n  telemetry:\n    log:\n      level: info\n");
        Assert.Equal("service.telemetry.log", error.KeyPath);
        Assert.Equal(TestLoad.At(3, 5), error.Location);
        Assert.StartsWith("unknown key \"log\"; valid keys: logs, metrics", error.Message);
    }

    [Fact]
    public void EmptyDocumentIsAnEmptyConfig()
    {
        var config = TestLoad.Yaml("# nothing yet\n").Config;
        Assert.Empty(config.Receivers);
        Assert.Empty(config.Pipelines);
    }
}
