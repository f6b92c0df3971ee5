using System.Diagnostics.Metrics;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using OtelAi.TestSupport;

namespace OtelAi.Prometheus.Tests;

/// <summary>
/// The engine as a user runs it (the otelai executable, a YAML config), fed by the OpenTelemetry .NET SDK, in front
/// of a real Prometheus 2.42: Prometheus scrapes the prometheus exporter and receives the prometheusremotewrite
/// exporter's pushes, and its query API must return the same series and values through both paths.
/// </summary>
[Trait(OtelaiProcess.Trait, OtelaiProcess.Executable)]
public sealed class RealPrometheusTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("otelai-prom-e2e-").FullName;

    [Fact]
    public async Task Prometheus_scrapes_the_exporter_and_receives_remote_write_with_the_same_series_and_values()
    {
        var otlpPort = TestPorts.GetFree();
        var exporterPort = TestPorts.GetFree();
        using var prometheus = PrometheusServer.Start($"""
              - job_name: otelai
                static_configs:
                  - targets: ["127.0.0.1:{exporterPort}"]
            """);
        using var engine = StartEngine($"""
            receivers:
              otlp:
                protocols:
                  http:
                    endpoint: 127.0.0.1:{otlpPort}
            exporters:
              prometheus:
                endpoint: 127.0.0.1:{exporterPort}
                enable_open_metrics: true
                const_labels:
                  cluster: test
              prometheusremotewrite:
                endpoint: {prometheus.RemoteWriteUrl}
                namespace: rw
                tls:
                  insecure: true
            service:
              telemetry:
                metrics:
                  level: none
              pipelines:
                metrics:
                  receivers: [otlp]
                  exporters: [prometheus, prometheusremotewrite]
            """, exporterPort, otlpPort);

        // A service exporting cumulative points (the SDK default) and one exporting deltas. Prometheus asks for
        // OpenMetrics, which the exporter serves here (enable_open_metrics): counters, histograms, info, _created, # EOF.
        SendInferenceMetrics(otlpPort, "chat-api", "pod-7", MetricReaderTemporalityPreference.Cumulative);
        SendInferenceMetrics(otlpPort, "embed-api", "pod-9", MetricReaderTemporalityPreference.Delta);

        foreach (var (job, service) in new[] { ("exported_job", "ai/chat-api"), ("exported_job", "ai/embed-api") })
        {
            // Scraped: Prometheus renames our job/instance to exported_* (honor_labels is off) and sets its own.
            var requests = await prometheus.QueryUntilPresentAsync($"inference_requests_total{{job=\"otelai\",{job}=\"{service}\",model_id=\"llama-3\"}}");
            Assert.Equal(7, PrometheusServer.Value(Assert.Single(requests)));
            Assert.Equal("test", PrometheusServer.Label(requests[0], "cluster"));
            Assert.StartsWith("inference-", PrometheusServer.Label(requests[0], "otel_scope_name"));
            await AssertHistogramAsync(prometheus, $"inference_duration_seconds{{job=\"otelai\",{job}=\"{service}\",model_id=\"llama-3\"}}");
            var info = await prometheus.QueryUntilPresentAsync($"target_info{{job=\"otelai\",{job}=\"{service}\"}}");
            Assert.Equal("prod", PrometheusServer.Label(Assert.Single(info), "deployment_environment"));
        }
        var gpu = await prometheus.QueryUntilPresentAsync("gpu_memory_used_bytes{job=\"otelai\",exported_job=\"ai/chat-api\"}");
        Assert.Equal(1024, PrometheusServer.Value(Assert.Single(gpu)));

        foreach (var service in new[] { "ai/chat-api", "ai/embed-api" })
        {
            // Remote write: job and instance are ours, names carry the namespace.
            var requests = await prometheus.QueryUntilAsync($"rw_inference_requests_total{{job=\"{service}\",model_id=\"llama-3\"}}",
                series => series.Length == 1 && PrometheusServer.Value(series[0]) == 7);
            Assert.StartsWith("pod-", PrometheusServer.Label(requests[0], "instance"));
            await AssertHistogramAsync(prometheus, $"rw_inference_duration_seconds{{job=\"{service}\",model_id=\"llama-3\"}}");
            var info = await prometheus.QueryUntilPresentAsync($"target_info{{job=\"{service}\"}}");
            Assert.Equal("prod", PrometheusServer.Label(Assert.Single(info), "deployment_environment"));
        }
        Assert.False(engine.HasExited, engine.Output);
    }

    [Fact]
    public async Task Remote_write_holds_data_while_Prometheus_is_down_and_delivers_it_when_it_is_back()
    {
        var otlpPort = TestPorts.GetFree();
        var prometheusPort = TestPorts.GetFree();
        using var engine = StartEngine($"""
            receivers:
              otlp:
                protocols:
                  http:
                    endpoint: 127.0.0.1:{otlpPort}
            exporters:
              prometheusremotewrite:
                endpoint: http://127.0.0.1:{prometheusPort}/api/v1/write
                retry_on_failure:
                  initial_interval: 200ms
                  max_interval: 1s
                  max_elapsed_time: 2m
            service:
              telemetry:
                metrics:
                  level: none
              pipelines:
                metrics:
                  receivers: [otlp]
                  exporters: [prometheusremotewrite]
            """, otlpPort);

        SendInferenceMetrics(otlpPort, "chat-api", "pod-7", MetricReaderTemporalityPreference.Cumulative);
        await Task.Delay(TimeSpan.FromSeconds(2)); // several refused attempts
        using var prometheus = PrometheusServer.Start(port: prometheusPort);

        var requests = await prometheus.QueryUntilPresentAsync("inference_requests_total{job=\"ai/chat-api\",model_id=\"llama-3\"}");
        Assert.Equal(7, PrometheusServer.Value(Assert.Single(requests)));
        Assert.False(engine.HasExited, engine.Output);
    }

    [Fact]
    public async Task Span_metrics_reach_Prometheus_as_RED_series_by_model()
    {
        var otlpPort = TestPorts.GetFree();
        var exporterPort = TestPorts.GetFree();
        using var prometheus = PrometheusServer.Start($"""
              - job_name: otelai
                static_configs:
                  - targets: ["127.0.0.1:{exporterPort}"]
            """);
        using var engine = StartEngine($"""
            receivers:
              otlp:
                protocols:
                  http:
                    endpoint: 127.0.0.1:{otlpPort}
            connectors:
              spanmetrics:
                dimensions:
                  - name: model_id
                metrics_flush_interval: 1s
                histogram:
                  explicit:
                    buckets: [100ms, 1s, 10s]
            exporters:
              prometheus:
                endpoint: 127.0.0.1:{exporterPort}
            service:
              telemetry:
                metrics:
                  level: none
              pipelines:
                traces:
                  receivers: [otlp]
                  exporters: [spanmetrics]
                metrics:
                  receivers: [spanmetrics]
                  exporters: [prometheus]
            """, exporterPort, otlpPort);

        // A source of this test's own: a provider listens to every source of the name, in any test running alongside.
        using (var source = new System.Diagnostics.ActivitySource("spanmetrics-test-" + Guid.NewGuid().ToString("N")))
        using (var provider = Sdk.CreateTracerProviderBuilder()
                   .SetResourceBuilder(ResourceBuilder.CreateEmpty().AddService("chat-api", "ai"))
                   .AddSource(source.Name)
                   .AddOtlpExporter(o =>
                   {
                       o.Endpoint = new Uri($"http://127.0.0.1:{otlpPort}/v1/traces");
                       o.Protocol = OtlpExportProtocol.HttpProtobuf;
                   })
                   .Build())
        {
            var start = DateTimeOffset.UtcNow;
            foreach (var (model, millis, failed) in new[] { ("llama-3", 50, false), ("llama-3", 400, false), ("llama-3", 2000, true), ("mistral", 30, false) })
            {
                using var activity = source.StartActivity("POST /v1/chat/completions", System.Diagnostics.ActivityKind.Server, default(System.Diagnostics.ActivityContext), startTime: start)!;
                activity.SetTag("model_id", model);
                if (failed) activity.SetStatus(System.Diagnostics.ActivityStatusCode.Error);
                activity.SetEndTime(start.AddMilliseconds(millis).UtcDateTime);
            }
            Assert.True(provider.ForceFlush(30_000));
        }

        const string llama = "job=\"otelai\",exported_job=\"ai/chat-api\",model_id=\"llama-3\",span_name=\"POST /v1/chat/completions\",span_kind=\"SPAN_KIND_SERVER\"";
        var ok = await prometheus.QueryUntilPresentAsync($"traces_span_metrics_calls_total{{{llama},status_code=\"STATUS_CODE_UNSET\"}}");
        Assert.Equal(2, PrometheusServer.Value(Assert.Single(ok)));
        var errors = await prometheus.QueryUntilPresentAsync($"traces_span_metrics_calls_total{{{llama},status_code=\"STATUS_CODE_ERROR\"}}");
        Assert.Equal(1, PrometheusServer.Value(Assert.Single(errors)));
        var fast = await prometheus.QueryUntilPresentAsync($"traces_span_metrics_duration_milliseconds_bucket{{{llama},status_code=\"STATUS_CODE_UNSET\",le=\"100\"}}");
        Assert.Equal(1, PrometheusServer.Value(Assert.Single(fast)));
        var all = await prometheus.QueryUntilPresentAsync($"traces_span_metrics_duration_milliseconds_count{{{llama},status_code=\"STATUS_CODE_UNSET\"}}");
        Assert.Equal(2, PrometheusServer.Value(Assert.Single(all)));
        Assert.False(engine.HasExited, engine.Output);
    }

    [Fact]
    public async Task The_receiver_scrapes_real_Prometheus_and_node_exporter_into_typed_OTLP_metrics()
    {
        var nodeExporterPort = TestPorts.GetFree();
        using var nodeExporter = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("prometheus-node-exporter",
            [$"--web.listen-address=127.0.0.1:{nodeExporterPort}", "--log.level=warn"]) { RedirectStandardError = true, RedirectStandardOutput = true })
            ?? throw new InvalidOperationException("cannot start prometheus-node-exporter (the test command installs it)");
        using var prometheus = PrometheusServer.Start();
        var output = Path.Combine(_directory, "scraped.jsonl");
        try
        {
            using var engine = StartEngine($"""
                receivers:
                  prometheus:
                    config:
                      scrape_configs:
                        - job_name: node
                          scrape_interval: 1s
                          static_configs:
                            - targets: ["127.0.0.1:{nodeExporterPort}"]
                        - job_name: prometheus
                          scrape_interval: 1s
                          static_configs:
                            - targets: ["127.0.0.1:{prometheus.Port}"]
                exporters:
                  file:
                    path: {output}
                service:
                  telemetry:
                    metrics:
                      level: none
                  pipelines:
                    metrics:
                      receivers: [prometheus]
                      exporters: [file]
                """);

            var metrics = await ScrapedMetricsAsync(output, m =>
                m.ContainsKey(("node", "node_cpu_seconds_total")) && m.ContainsKey(("prometheus", "prometheus_http_request_duration_seconds")));
            Assert.True(metrics[("node", "node_cpu_seconds_total")].Sum.IsMonotonic);
            Assert.Contains(metrics[("node", "node_cpu_seconds_total")].Sum.DataPoints, p => p.Attributes.Any(a => a.Key == "mode" && a.Value.StringValue == "idle"));
            Assert.Equal(OtelAi.Otlp.Proto.Metrics.V1.Metric.DataOneofCase.Gauge, metrics[("node", "node_memory_MemTotal_bytes")].DataCase);
            Assert.Equal(OtelAi.Otlp.Proto.Metrics.V1.Metric.DataOneofCase.Histogram, metrics[("prometheus", "prometheus_http_request_duration_seconds")].DataCase);
            Assert.Equal(OtelAi.Otlp.Proto.Metrics.V1.Metric.DataOneofCase.Summary, metrics[("prometheus", "go_gc_duration_seconds")].DataCase);
            Assert.Equal(1, metrics[("node", "up")].Gauge.DataPoints[0].AsDouble);
            Assert.Equal(1, metrics[("prometheus", "up")].Gauge.DataPoints[0].AsDouble);
            Assert.False(engine.HasExited, engine.Output);
        }
        finally
        {
            nodeExporter.Kill(entireProcessTree: true);
            nodeExporter.WaitForExit(10_000);
        }
    }

    /// <summary>The metrics the file exporter wrote, by (service.name, metric name), polled until <paramref name="done"/>.</summary>
    private static async Task<Dictionary<(string Job, string Name), OtelAi.Otlp.Proto.Metrics.V1.Metric>> ScrapedMetricsAsync(
        string path, Func<Dictionary<(string, string), OtelAi.Otlp.Proto.Metrics.V1.Metric>, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        var metrics = new Dictionary<(string, string), OtelAi.Otlp.Proto.Metrics.V1.Metric>();
        while (DateTime.UtcNow < deadline)
        {
            if (File.Exists(path))
            {
                string[] lines;
                using (var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite)))
                {
                    // Whole lines only: the exporter may be writing the last one right now.
                    var text = await reader.ReadToEndAsync();
                    lines = text[..(text.LastIndexOf('\n') + 1)].Split('\n', StringSplitOptions.RemoveEmptyEntries);
                }
                foreach (var line in lines)
                {
                    var request = OtelAi.Otlp.Json.OtlpJson.Parse<OtelAi.Otlp.Proto.Collector.Metrics.V1.ExportMetricsServiceRequest>(line);
                    foreach (var resource in request.ResourceMetrics)
                    {
                        var job = resource.Resource.Attributes.First(a => a.Key == "service.name").Value.StringValue;
                        foreach (var metric in resource.ScopeMetrics.SelectMany(s => s.Metrics)) metrics[(job, metric.Name)] = metric;
                    }
                }
                if (done(metrics)) return metrics;
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"the scraped metrics never arrived; have {metrics.Count}: {string.Join(", ", metrics.Keys.Take(20))}");
    }

    private static async Task AssertHistogramAsync(PrometheusServer prometheus, string selector)
    {
        var name = selector[..selector.IndexOf('{')];
        var labels = selector[selector.IndexOf('{')..].TrimEnd('}');
        var bucket = await prometheus.QueryUntilPresentAsync($"{name}_bucket{labels},le=\"0.5\"}}");
        Assert.Equal(2, PrometheusServer.Value(Assert.Single(bucket)));
        var inf = await prometheus.QueryUntilPresentAsync($"{name}_bucket{labels},le=\"+Inf\"}}");
        Assert.Equal(3, PrometheusServer.Value(Assert.Single(inf)));
        Assert.Equal(2.75, PrometheusServer.Value(Assert.Single(await prometheus.QueryUntilPresentAsync($"{name}_sum{labels}}}"))));
        Assert.Equal(3, PrometheusServer.Value(Assert.Single(await prometheus.QueryUntilPresentAsync($"{name}_count{labels}}}"))));
    }

    /// <summary>
    /// Requests 5 + 2 (llama-3) and 4 (mistral), latencies 0.25, 0.5, 2 s (llama-3), GPU memory 1024 bytes, in two
    /// exports, so delta points must be added up to read 7.
    /// </summary>
    private static void SendInferenceMetrics(int otlpPort, string service, string instance, MetricReaderTemporalityPreference temporality)
    {
        using var meter = new Meter("inference-" + Guid.NewGuid().ToString("N"), "1.2.0"); // this call's own: see the spanmetrics test
        var requests = meter.CreateCounter<long>("inference.requests", "{request}", "Inference requests served");
        var duration = meter.CreateHistogram<double>("inference.duration", "s", "Inference latency");
        meter.CreateObservableGauge("gpu.memory.used", () => 1024L, "By", "GPU memory in use");
        using var provider = Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(ResourceBuilder.CreateEmpty().AddService(service, "ai", serviceInstanceId: instance)
                .AddAttributes([new("deployment.environment", "prod")]))
            .AddMeter(meter.Name)
            .AddView("inference.duration", new ExplicitBucketHistogramConfiguration { Boundaries = [0.1, 0.5, 1, 5] })
            .AddOtlpExporter((exporter, reader) =>
            {
                exporter.Endpoint = new Uri($"http://127.0.0.1:{otlpPort}/v1/metrics");
                exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
                reader.TemporalityPreference = temporality;
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 60_000;
            })
            .Build();
        var llama = new KeyValuePair<string, object?>("model_id", "llama-3");
        requests.Add(5, llama);
        requests.Add(4, new KeyValuePair<string, object?>("model_id", "mistral"));
        duration.Record(0.25, llama);
        duration.Record(0.5, llama);
        Assert.True(provider.ForceFlush(30_000));
        requests.Add(2, llama);
        duration.Record(2, llama);
        Assert.True(provider.ForceFlush(30_000));
    }

    /// <summary>Starts otelai on <paramref name="yaml"/> and waits until each of <paramref name="ports"/> answers HTTP (exporters start before receivers).</summary>
    private OtelaiProcess StartEngine(string yaml, params int[] ports)
    {
        var path = Path.Combine(_directory, $"config-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, yaml);
        var engine = OtelaiProcess.Start("--config", path);
        engine.WaitUntilListening(ports);
        return engine;
    }

    public void Dispose()
    {
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }
}
