using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Metrics.V1;
using Google.Protobuf;
using OtelAi.Receivers;
using OtelAi.Exporters;
using System.Net;
using System.Text.Json;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Extensions.HealthCheck;
using OtelAi.TestSupport;

namespace OtelAi.Engine.Tests;

public sealed class HttpEndpointTests
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly Harness _h = new();

    [Fact]
    public async Task Health_check_answers_503_while_starting_and_stopping_and_200_while_running()
    {
        var extensions = _h.Factory<TestExtensionFactory>(ComponentKind.Extension, "testext");
        var releaseStart = new TaskCompletionSource();
        var releaseStop = new TaskCompletionSource();
        extensions.StartGates["testext"] = releaseStart.Task;
        extensions.StopGates["testext"] = releaseStop.Task;
        await using var collector = _h.Builder()
            .AddExtension("health_check", new HealthCheckConfig { Endpoint = "127.0.0.1:0", Path = "/health/status" })
            .AddExtension("testext")
            .AddReceiver("testrecv").AddExporter("collect")
            .AddPipeline("traces", receivers: ["testrecv"], exporters: ["collect"])
            .Build(Harness.QuietOptions);

        var starting = collector.StartAsync();
        var health = (HealthCheckExtension)collector.FindComponent(ComponentKind.Extension, ComponentId.Parse("health_check"))!;
        await Harness.Eventually(() => IsListening(health), "health_check to listen");
        var url = $"http://127.0.0.1:{health.Port}/health/status";

        var (code, body) = await Get(url);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, code);
        Assert.Equal("Server not available", body.GetProperty("status").GetString());
        Assert.Equal("0001-01-01T00:00:00Z", body.GetProperty("upSince").GetString());

        releaseStart.SetResult();
        await starting;
        (code, body) = await Get(url);
        Assert.Equal(HttpStatusCode.OK, code);
        Assert.Equal("Server available", body.GetProperty("status").GetString());
        Assert.True(body.GetProperty("upSince").GetDateTime() > DateTime.UtcNow.AddMinutes(-5));
        Assert.Matches(@"^[0-9hm.]+m?s$", body.GetProperty("uptime").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await Http.GetAsync($"http://127.0.0.1:{health.Port}/other")).StatusCode);

        var stopping = collector.StopAsync();
        await Harness.Eventually(() => collector.State == CollectorState.Stopping, "collector to be stopping");
        (code, _) = await Get(url);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, code);
        releaseStop.SetResult();
        await stopping;
        await Assert.ThrowsAsync<HttpRequestException>(() => Http.GetAsync(url));
    }

    [Fact]
    public async Task Health_check_custom_bodies_replace_the_json()
    {
        await using var collector = _h.Builder()
            .AddExtension("health_check", new HealthCheckConfig { Endpoint = "127.0.0.1:0", ResponseBody = new() { Healthy = "I'm OK", Unhealthy = "I'm bad" } })
            .AddReceiver("testrecv").AddExporter("collect")
            .AddPipeline("traces", receivers: ["testrecv"], exporters: ["collect"])
            .Build(Harness.QuietOptions);
        await collector.StartAsync();
        var health = (HealthCheckExtension)collector.FindComponent(ComponentKind.Extension, ComponentId.Parse("health_check"))!;

        var response = await Http.GetAsync($"http://127.0.0.1:{health.Port}/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("I'm OK", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData(807.5, "807.5ms")]
    [InlineData(12_250, "12.25s")]
    [InlineData(90_000, "1m30s")]
    [InlineData(3_723_000, "1h2m3s")]
    public void Health_check_uptime_reads_like_go_durations(double milliseconds, string text) =>
        Assert.Equal(text, HealthCheckExtension.FormatUptime(TimeSpan.FromMilliseconds(milliseconds)));

    [Fact]
    public void Health_check_config_rejects_a_path_without_leading_slash()
    {
        var errors = new HealthCheckConfig { Path = "health" }.Validate().ToList();
        Assert.Equal([new ConfigError("path", "must start with /")], errors);
    }

    [Fact]
    public async Task Self_metrics_are_served_as_prometheus_text_with_otelcol_names()
    {
        await using var collector = _h.Builder()
            .WithTelemetry(new TelemetryConfig { Metrics = new TelemetryMetricsConfig { Level = "normal", Address = "127.0.0.1:0" } })
            .AddReceiver("testrecv").AddExporter("collect")
            .AddPipeline("traces", receivers: ["testrecv"], exporters: ["collect"])
            .Build(Harness.QuietOptions);
        await collector.StartAsync();
        await Harness.Receiver(collector).SendAsync(SampleData.Traces(12));

        var response = await Http.GetAsync($"http://127.0.0.1:{collector.MetricsPort}/metrics");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.ToString());
        // Every series carries the service's identity after its own labels, as otelcol's do.
        var identity = System.Text.RegularExpressions.Regex.Match(text, "otelcol_receiver_accepted_spans_total\\{receiver=\"testrecv\",transport=\"test\",service_instance_id=\"([0-9a-f-]{36})\",service_name=\"otelai\",service_version=\"[0-9.]+\"\\} 12\n");
        Assert.True(identity.Success, text);
        Assert.Contains("# TYPE otelcol_process_uptime gauge\n", text);
        foreach (var name in new[] { "otelcol_process_memory_rss", "otelcol_process_runtime_heap_alloc_bytes", "otelcol_process_cpu_seconds" })
        {
            var line = text.Split('\n').Single(l => l.StartsWith(name + "{"));
            Assert.Contains($"service_instance_id=\"{identity.Groups[1].Value}\"", line);
            Assert.True(double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture) > 0, line);
        }
        await collector.StopAsync();
        Assert.Null(collector.MetricsPort);
    }

    [Fact]
    public async Task Metrics_level_none_serves_nothing()
    {
        await using var collector = _h.Builder()
            .AddReceiver("testrecv").AddExporter("collect")
            .AddPipeline("traces", receivers: ["testrecv"], exporters: ["collect"])
            .Build(Harness.QuietOptions);
        await collector.StartAsync();
        Assert.Null(collector.MetricsPort);
    }

    private static bool IsListening(HealthCheckExtension health)
    {
        try { return health.Port > 0; }
        catch (InvalidOperationException) { return false; }
    }

    private static async Task<(HttpStatusCode, JsonElement)> Get(string url)
    {
        using var response = await Http.GetAsync(url);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }
}

/// <summary>health_check's check_collector_pipeline on a running collector: failed sends and a memory_limiter that keeps refusing.</summary>
public sealed class PipelineHealthTests
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    private static async Task<(HttpStatusCode Code, string Body)> Health(int port)
    {
        using var response = await Http.GetAsync($"http://127.0.0.1:{port}/");
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task More_failed_sends_than_the_threshold_within_the_interval_answer_500_with_the_reason()
    {
        var (receiverPort, healthPort, deadPort) = (TestPorts.GetFree(), TestPorts.GetFree(), TestPorts.GetFree());
        await using var collector = Collector.FromYaml($"""
            receivers:
              otlp:
                protocols:
                  http:
                    endpoint: 127.0.0.1:{receiverPort}
            exporters:
              otlphttp:
                endpoint: http://127.0.0.1:{deadPort}
                retry_on_failure:
                  enabled: false
                sending_queue:
                  enabled: false
            extensions:
              health_check:
                endpoint: 127.0.0.1:{healthPort}
                check_collector_pipeline:
                  enabled: true
                  interval: 1m
                  exporter_failure_threshold: 2
            service:
              extensions: [health_check]
              telemetry:
                metrics:
                  level: none
              pipelines:
                traces:
                  receivers: [otlp]
                  exporters: [otlphttp]
            """, BuiltinComponents.CreateRegistry(), Harness.QuietOptions);
        await collector.StartAsync();
        var body = new ByteArrayContent(SampleData.Traces(spans: 1).ToByteArray());
        body.Headers.ContentType = new("application/x-protobuf");
        for (var i = 0; i < 2; i++)
            Assert.False((await Http.PostAsync($"http://127.0.0.1:{receiverPort}/v1/traces", body)).IsSuccessStatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Health(healthPort)).Code); // two failures: at the threshold, not above

        Assert.False((await Http.PostAsync($"http://127.0.0.1:{receiverPort}/v1/traces", body)).IsSuccessStatusCode);
        var (code, text) = await Health(healthPort);
        Assert.Equal(HttpStatusCode.InternalServerError, code);
        Assert.Contains("exporter otlphttp: 3 failed sends within 1m", JsonDocument.Parse(text).RootElement.GetProperty("reason").GetString());
    }

    private sealed class SettableProbe : OtelAi.Processors.MemoryLimiter.IMemoryProbe
    {
        public long Used;

        public long UsedBytes() => Interlocked.Read(ref Used);

        public void Collect()
        {
        }
    }

    [Fact]
    public async Task A_memory_limiter_refusing_for_the_whole_interval_answers_500_until_it_recovers()
    {
        var probe = new SettableProbe { Used = 200L << 20 };
        var registry = new ComponentRegistry().AddEngineComponents().AddReceivers()
            .Add(new OtelAi.Processors.MemoryLimiter.MemoryLimiterProcessorFactory(probe)).AddExporters();
        var healthPort = TestPorts.GetFree();
        await using var collector = Collector.FromYaml($"""
            receivers:
              otlp:
                protocols:
                  http:
                    endpoint: 127.0.0.1:0
            processors:
              memory_limiter:
                check_interval: 50ms
                limit_mib: 100
            exporters:
              debug:
            extensions:
              health_check:
                endpoint: 127.0.0.1:{healthPort}
                check_collector_pipeline:
                  enabled: true
                  interval: 1s
            service:
              extensions: [health_check]
              telemetry:
                metrics:
                  level: none
              pipelines:
                traces:
                  receivers: [otlp]
                  processors: [memory_limiter]
                  exporters: [debug]
            """, registry, Harness.QuietOptions);
        await collector.StartAsync();
        await Harness.Eventually(async () => (await Health(healthPort)).Code == HttpStatusCode.InternalServerError, "health to report the refusing memory_limiter");
        Assert.Contains("processor memory_limiter: failing for", (await Health(healthPort)).Body);

        Interlocked.Exchange(ref probe.Used, 10L << 20);
        await Harness.Eventually(async () => (await Health(healthPort)).Code == HttpStatusCode.OK, "health to recover with the memory_limiter");
    }
}

/// <summary>service.telemetry.metrics.readers: periodic OTLP readers push the self-metrics, over HTTP and gRPC.</summary>
public sealed class SelfMetricsPushTests
{
    [Fact]
    public async Task Periodic_readers_push_self_metrics_over_http_and_grpc_and_once_more_at_stop()
    {
        var registry = BuiltinComponents.CreateRegistry().Add(new CollectingExporterFactory(new LifecycleLog()));
        var (httpPort, grpcPort) = (TestPorts.GetFree(), TestPorts.GetFree());
        await using var backend = Collector.FromYaml($"""
            receivers:
              otlp:
                protocols:
                  http:
                    endpoint: 127.0.0.1:{httpPort}
                  grpc:
                    endpoint: 127.0.0.1:{grpcPort}
            exporters:
              collect:
            service:
              telemetry:
                metrics:
                  level: none
              pipelines:
                metrics:
                  receivers: [otlp]
                  exporters: [collect]
            """, registry, Harness.QuietOptions);
        await backend.StartAsync();

        var pushing = Collector.FromYaml($$"""
            receivers:
              otlp:
                protocols:
                  http:
                    endpoint: 127.0.0.1:0
            exporters:
              debug:
            service:
              telemetry:
                resource:
                  service.name: inference-gateway
                metrics:
                  readers:
                    - periodic:
                        interval: 200
                        exporter:
                          otlp:
                            protocol: http/protobuf
                            endpoint: http://127.0.0.1:{{httpPort}}/v1/metrics
                    - periodic:
                        interval: 200
                        exporter:
                          otlp_grpc:
                            endpoint: http://127.0.0.1:{{grpcPort}}
                            insecure: true
                            headers: [{name: x-tenant, value: ai}]
              pipelines:
                traces:
                  receivers: [otlp]
                  exporters: [debug]
            """, BuiltinComponents.CreateRegistry(), Harness.QuietOptions);
        await pushing.StartAsync();
        Assert.Null(pushing.MetricsPort); // readers replace the default pull endpoint, as in otelcol

        var collected = Harness.Exporter<ExportMetricsServiceRequest>(backend, "collect");
        await Harness.Eventually(() => backend.Metrics.Read("otelcol_receiver_accepted_metric_points", ("receiver", "otlp"), ("transport", "http")) > 0
            && backend.Metrics.Read("otelcol_receiver_accepted_metric_points", ("receiver", "otlp"), ("transport", "grpc")) > 0, "pushes over both transports");
        var pushed = collected.Exported.Last();
        var resource = pushed.ResourceMetrics[0].Resource.Attributes;
        Assert.Equal("inference-gateway", resource.Single(a => a.Key == "service.name").Value.StringValue);
        Assert.Contains(resource, a => a.Key == "service.instance.id");
        var metrics = pushed.ResourceMetrics[0].ScopeMetrics[0].Metrics;
        var uptime = metrics.Single(m => m.Name == "otelcol_process_uptime");
        Assert.Equal(Metric.DataOneofCase.Gauge, uptime.DataCase);

        var before = collected.Exported.Count;
        await pushing.StopAsync();
        await Harness.Eventually(() => collected.Exported.Count > before, "the final push at stop");
        await pushing.DisposeAsync();
    }
}

/// <summary>zpages at otelcol's paths, in HTML and JSON.</summary>
public sealed class ZPagesTests
{
    [Fact]
    public async Task Zpages_describe_the_service_pipelines_extensions_and_feature_gates()
    {
        var registry = BuiltinComponents.CreateRegistry();
        registry.FeatureGates.Apply("telemetry.newPipelineTelemetry");
        var port = TestPorts.GetFree();
        await using var collector = Collector.FromYaml($"""
            receivers:
              otlp:
                protocols:
                  http:
                    endpoint: 127.0.0.1:0
            processors:
              batch:
            exporters:
              debug:
            extensions:
              zpages:
                endpoint: 127.0.0.1:{port}
            service:
              extensions: [zpages]
              telemetry:
                metrics:
                  level: none
              pipelines:
                traces/ai:
                  receivers: [otlp]
                  processors: [batch]
                  exporters: [debug]
            """, registry, Harness.QuietOptions);
        await collector.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        var pipelines = await http.GetStringAsync("/debug/pipelinez");
        Assert.Contains("<td>traces/ai</td><td>processor</td><td>batch</td><td>ok</td>", pipelines);
        var service = JsonDocument.Parse(await http.GetStringAsync("/debug/servicez?format=json")).RootElement;
        Assert.Contains(service.GetProperty("rows").EnumerateArray(), row => row.GetProperty("property").GetString() == "State" && row.GetProperty("value").GetString() == "Running");
        var gates = JsonDocument.Parse(await http.GetStringAsync("/debug/featurez?format=json")).RootElement.GetProperty("rows").EnumerateArray().ToList();
        Assert.Contains(gates, g => g.GetProperty("id").GetString() == "telemetry.newPipelineTelemetry" && g.GetProperty("enabled").GetString() == "true");
        Assert.Contains("<td>zpages</td>", await http.GetStringAsync("/debug/extensionz"));
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/debug/nope")).StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await http.PostAsync("/debug/servicez", new StringContent(""))).StatusCode);
    }
}
