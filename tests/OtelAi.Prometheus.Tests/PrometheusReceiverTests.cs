using System.Diagnostics;
using Google.Protobuf;
using Microsoft.AspNetCore.Http;
using OtelAi.Engine;
using OtelAi.Otlp;
using OtelAi.Otlp.Hosting;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Otlp.Proto.Metrics.V1;
using OtelAi.Otlp.Proto.Trace.V1;
using OtelAi.TestSupport;
using static OtelAi.TestSupport.SampleData;

namespace OtelAi.Prometheus.Tests;

/// <summary>The prometheus receiver in a running collector against scripted targets: AI serving exposition, relabeling, start times, and targets that fail.</summary>
public sealed class PrometheusReceiverTests : IAsyncLifetime
{
    private const string AiTargets = """
        # HELP DCGM_FI_DEV_FB_USED Framebuffer memory used (in MiB).
        # TYPE DCGM_FI_DEV_FB_USED gauge
        DCGM_FI_DEV_FB_USED{gpu="0",UUID="GPU-8f6e4f2a",modelName="NVIDIA A100-SXM4-80GB",Hostname="gpu-node-1"} 40512
        # TYPE vllm:num_requests_running gauge
        vllm:num_requests_running{model_name="llama-3-8b"} 3
        # TYPE vllm:time_to_first_token_seconds histogram
        vllm:time_to_first_token_seconds_bucket{le="0.05",model_name="llama-3-8b"} 4
        vllm:time_to_first_token_seconds_bucket{le="0.5",model_name="llama-3-8b"} 11
        vllm:time_to_first_token_seconds_bucket{le="+Inf",model_name="llama-3-8b"} 12
        vllm:time_to_first_token_seconds_count{model_name="llama-3-8b"} 12
        vllm:time_to_first_token_seconds_sum{model_name="llama-3-8b"} 2.5
        # TYPE nv_inference_request_duration_us counter
        nv_inference_request_duration_us{model="resnet50",version="1"} 6100000
        # TYPE go_gc_duration_seconds summary
        go_gc_duration_seconds{quantile="0.5"} 0.0001
        go_gc_duration_seconds_sum 0.02
        go_gc_duration_seconds_count 40
        """;

    private readonly CaptureExporterFactory _capture = new();
    private readonly CapturingLoggerFactory _logs = new();
    private ServerHost _target = null!;
    private volatile Func<HttpContext, Task> _respond = context => context.Response.WriteAsync(AiTargets);

    public async Task InitializeAsync() => _target = await ServerHost.StartAsync("127.0.0.1:0", context => _respond(context), ServerHostSetup.Http1, CancellationToken.None);

    public async Task DisposeAsync() => await _target.DisposeAsync();

    private Collector Start(string scrapeExtra = "") =>
        Collector.FromYaml($"""
            receivers:
              prometheus:
                config:
                  global:
                    external_labels: {"{"}cluster: eu-1, rack: ignored{"}"}
                  scrape_configs:
                    - job_name: gpu-node
                      scrape_interval: 200ms
                      scrape_timeout: 150ms
                      static_configs:
                        - targets: ["127.0.0.1:{_target.Port}"]
                          labels: {"{"}rack: r1{"}"}
            {scrapeExtra}
            exporters:
              capture:
            service:
              telemetry:
                metrics:
                  level: none
              pipelines:
                metrics:
                  receivers: [prometheus]
                  exporters: [capture]
            """, _capture.WithBuiltins(), new CollectorOptions { LoggerFactory = _logs });

    private List<(ResourceMetrics Resource, Metric Metric)> Scraped() =>
        _capture.Metrics.Payloads.SelectMany(r => r.ResourceMetrics)
            .SelectMany(rm => rm.ScopeMetrics.SelectMany(sm => sm.Metrics).Select(m => (rm, m))).ToList();

    private async Task<List<Metric>> UntilAsync(Func<List<Metric>, bool> done, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            var metrics = Scraped().Select(s => s.Metric).ToList();
            if (done(metrics)) return metrics;
            await Task.Delay(50);
        }
        throw new TimeoutException($"never saw {what}; logs: {string.Join(" | ", _logs.Lines)}");
    }

    private static IEnumerable<double> Up(List<Metric> metrics) => metrics.Where(m => m.Name == "up").Select(m => m.Gauge.DataPoints[0].AsDouble);

    [Fact]
    public async Task AI_serving_metrics_arrive_with_their_names_labels_and_types()
    {
        await using var collector = Start();
        await collector.StartAsync();
        var metrics = await UntilAsync(m => m.Any(x => x.Name == "DCGM_FI_DEV_FB_USED"), "a scrape");
        var (resource, _) = Scraped().First(s => s.Metric.Name == "DCGM_FI_DEV_FB_USED");
        Assert.Equal("gpu-node", resource.Resource.Attributes.Get("service.name").AsString());
        Assert.Equal($"127.0.0.1:{_target.Port}", resource.Resource.Attributes.Get("service.instance.id").AsString());

        var dcgm = metrics.First(m => m.Name == "DCGM_FI_DEV_FB_USED").Gauge.DataPoints.Single();
        Assert.Equal(40512, dcgm.AsDouble);
        Assert.Equal(["Hostname", "UUID", "cluster", "gpu", "modelName", "rack"], dcgm.Attributes.Select(a => a.Key));
        Assert.Equal("r1", dcgm.Attributes.Get("rack").AsString()); // the target's label beats the external one

        Assert.Equal(3, metrics.First(m => m.Name == "vllm:num_requests_running").Gauge.DataPoints.Single().AsDouble);
        var ttft = metrics.First(m => m.Name == "vllm:time_to_first_token_seconds").Histogram;
        Assert.Equal(AggregationTemporality.Cumulative, ttft.AggregationTemporality);
        var point = ttft.DataPoints.Single();
        Assert.Equal([0.05, 0.5], point.ExplicitBounds);
        Assert.Equal([4UL, 7, 1], point.BucketCounts);
        Assert.Equal((12UL, 2.5), (point.Count, point.Sum));
        Assert.Equal("llama-3-8b", point.Attributes.Get("model_name").AsString());

        var triton = metrics.First(m => m.Name == "nv_inference_request_duration_us").Sum;
        Assert.True(triton.IsMonotonic);
        Assert.Equal(6_100_000, triton.DataPoints.Single().AsDouble);
        var gc = metrics.First(m => m.Name == "go_gc_duration_seconds").Summary.DataPoints.Single();
        Assert.Equal((40UL, 0.02, 0.5), (gc.Count, gc.Sum, gc.QuantileValues.Single().Quantile));
        Assert.Equal(1, Up(metrics).First());
        Assert.Equal(11, metrics.First(m => m.Name == "scrape_samples_scraped").Gauge.DataPoints[0].AsDouble);

        // A later scrape keeps the counter's start time; a drop in value starts it again.
        var first = triton.DataPoints.Single();
        _respond = context => context.Response.WriteAsync(AiTargets.Replace("6100000", "100"));
        var later = await UntilAsync(m => m.Any(x => x.Name == "nv_inference_request_duration_us" && x.Sum.DataPoints[0].AsDouble == 100), "the reset counter");
        var reset = later.Last(m => m.Name == "nv_inference_request_duration_us").Sum.DataPoints.Single();
        Assert.True(reset.StartTimeUnixNano > first.StartTimeUnixNano);
        await collector.StopAsync();
    }

    [Fact]
    public async Task A_target_with_garbage_or_too_slow_is_down_with_a_reason_and_the_loop_goes_on()
    {
        await using var collector = Start();
        _respond = context => context.Response.WriteAsync("this is { not prometheus\n");
        await collector.StartAsync();
        await UntilAsync(m => Up(m).Contains(0), "up = 0 for garbage");
        Assert.Contains(_logs.Lines, line => line.Contains("is down") && line.Contains("line 1"));

        _respond = async context => { await Task.Delay(TimeSpan.FromSeconds(5), context.RequestAborted); };
        var slowSince = Scraped().Count;
        var watch = Stopwatch.StartNew();
        await UntilAsync(m => m.Skip(slowSince).Any(x => x.Name == "up" && x.Gauge.DataPoints[0].AsDouble == 0)
            && _logs.Lines.Any(l => l.Contains("timed out")), "a timed-out scrape");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(4), $"the timeout took {watch.Elapsed}");

        _respond = context => context.Response.WriteAsync(AiTargets);
        await UntilAsync(m => Up(m).Contains(1), "the target up again");
        await collector.StopAsync();
    }

    [Fact]
    public async Task Metric_relabeling_and_target_label_collisions()
    {
        _respond = context => context.Response.WriteAsync(AiTargets + "\njob_says{job=\"own\"} 1\n");
        await using var collector = Start(scrapeExtra: """
                      metric_relabel_configs:
                        - source_labels: [__name__]
                          regex: go_.*
                          action: drop
                        - source_labels: [modelName]
                          regex: NVIDIA (.*)
                          target_label: gpu_model
                          replacement: $1
                        - regex: UUID|modelName
                          action: labeldrop
            """);
        await collector.StartAsync();
        var metrics = await UntilAsync(m => m.Any(x => x.Name == "DCGM_FI_DEV_FB_USED"), "a scrape");
        Assert.DoesNotContain(metrics, m => m.Name.StartsWith("go_", StringComparison.Ordinal));
        var dcgm = metrics.First(m => m.Name == "DCGM_FI_DEV_FB_USED").Gauge.DataPoints.Single();
        Assert.Equal(["Hostname", "cluster", "gpu", "gpu_model", "rack"], dcgm.Attributes.Select(a => a.Key));
        Assert.Equal("A100-SXM4-80GB", dcgm.Attributes.Get("gpu_model").AsString());
        Assert.Equal("own", metrics.First(m => m.Name == "job_says").Gauge.DataPoints.Single().Attributes.Get("exported_job").AsString());
        Assert.Equal(9, metrics.First(m => m.Name == "scrape_samples_post_metric_relabeling").Gauge.DataPoints[0].AsDouble);
        await collector.StopAsync();
    }

    [Fact]
    public async Task Scraped_DCGM_memory_joins_inference_spans_in_aiattributes_without_extra_config()
    {
        var otlpPort = TestPorts.GetFree();
        await using var collector = Collector.FromYaml($$"""
            receivers:
              otlp:
                protocols:
                  http:
                    endpoint: 127.0.0.1:{{otlpPort}}
              prometheus:
                config:
                  scrape_configs:
                    - job_name: dcgm
                      scrape_interval: 200ms
                      static_configs:
                        - targets: ["127.0.0.1:{{_target.Port}}"]
            processors:
              aiattributes:
            exporters:
              capture:
            service:
              telemetry:
                metrics:
                  level: none
              pipelines:
                metrics:
                  receivers: [prometheus]
                  processors: [aiattributes]
                  exporters: [capture]
                traces:
                  receivers: [otlp]
                  processors: [aiattributes]
                  exporters: [capture]
            """, _capture.WithBuiltins(), new CollectorOptions { LoggerFactory = _logs });
        await collector.StartAsync();
        await UntilAsync(m => m.Any(x => x.Name == "DCGM_FI_DEV_FB_USED"), "the DCGM scrape");

        var span = new Span
        {
            TraceId = ByteString.CopyFrom(Enumerable.Repeat((byte)7, 16).ToArray()),
            SpanId = ByteString.CopyFrom(Enumerable.Repeat((byte)8, 8).ToArray()),
            Name = "POST /v2/models/resnet50/infer",
            Kind = Span.Types.SpanKind.Server,
            StartTimeUnixNano = 1_700_000_000_000_000_000,
            EndTimeUnixNano = 1_700_000_000_042_000_000,
            Attributes = { Attr("url.path", "/v2/models/resnet50/infer") },
        };
        var request = new ExportTraceServiceRequest
        {
            ResourceSpans = { new ResourceSpans { Resource = new() { Attributes = { Attr("service.name", "triton"), Attr("host.name", "gpu-node-1") } }, ScopeSpans = { new ScopeSpans { Spans = { span } } } } },
        };
        using var http = new HttpClient();
        using var content = new ByteArrayContent(request.ToByteArray());
        content.Headers.ContentType = new("application/x-protobuf");
        (await http.PostAsync($"http://127.0.0.1:{otlpPort}/v1/traces", content)).EnsureSuccessStatusCode();

        await _capture.Traces.WaitForItemsAsync(1);
        var enriched = _capture.Traces.Payloads.Single().ResourceSpans[0].ScopeSpans[0].Spans[0];
        Assert.Equal(40512, enriched.Attributes.Get("gpu_mem_used")!.IntValue);
        Assert.Equal("resnet50", enriched.Attributes.Get("model_id")!.StringValue);
        await collector.StopAsync();
    }
}
