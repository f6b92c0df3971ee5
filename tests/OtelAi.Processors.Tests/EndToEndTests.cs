using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Consumers;
using OtelAi.Engine;
using OtelAi.Otlp;
using OtelAi.Exporters;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Receivers;
using OtelAi.TestSupport;

namespace OtelAi.Processors.Tests;

/// <summary>
/// Issue 4's end-to-end checks: a real OTLP client (the OpenTelemetry .NET SDK) sends through the otlp receiver,
/// transform, aiattributes and batch of a running collector; and a flood against memory_limiter.
/// </summary>
[Collection(nameof(RealMemoryCollection))]
public sealed class EndToEndTests
{
    [Fact]
    public async Task SdkSpans_ThroughTransformAiAttributesBatch_GetModelIdInferenceTimeAndJoinedGpuMemory()
    {
        var port = TestPorts.GetFree();
        var capture = new CaptureExporterFactory();
        var yaml = $$"""
            receivers:
              otlp:
                protocols:
                  grpc: { endpoint: "127.0.0.1:{{port}}" }
            processors:
              transform:
                trace_statements:
                  - context: span
                    statements:
                      - set(attributes["model_id"], ParseJSON(attributes["http.request.body"])["model"]) where attributes["http.request.body"] != nil
              aiattributes:
                inference_spans: { route: "/(infer|chat/completions)" }
              batch:
                timeout: 100ms
            exporters:
              capture: {}
            service:
              telemetry: { metrics: { level: none } }
              pipelines:
                metrics:
                  receivers: [otlp]
                  processors: [aiattributes]
                  exporters: [capture]
                traces:
                  receivers: [otlp]
                  processors: [transform, aiattributes, batch]
                  exporters: [capture]
            """;
        await using var collector = Collector.FromYaml(yaml, capture.WithBuiltins(), new CollectorOptions { LoggerFactory = NullLoggerFactory.Instance });
        await collector.StartAsync();

        var resource = ResourceBuilder.CreateEmpty().AddService("triton-gateway")
            .AddAttributes([new("host.name", "gpu-node-7")]);
        var endpoint = new Uri($"http://127.0.0.1:{port}");

        // The DCGM-style gauge, as a metrics pipeline would see it from the GPU node.
        using (var meter = new Meter("dcgm.test"))
        {
            meter.CreateObservableGauge("DCGM_FI_DEV_FB_USED", () => new Measurement<long>(5120, new KeyValuePair<string, object?>("gpu", "0")));
            using var meters = Sdk.CreateMeterProviderBuilder().SetResourceBuilder(resource).AddMeter("dcgm.test")
                .AddOtlpExporter((o, reader) =>
                {
                    o.Endpoint = endpoint;
                    o.Protocol = OtlpExportProtocol.Grpc;
                    reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 60_000;
                })
                .Build();
            Assert.True(meters.ForceFlush(30_000));
        }
        await capture.Metrics.WaitForAsync(1);

        using var source = new ActivitySource("triton.test");
        using (var tracer = Sdk.CreateTracerProviderBuilder().SetResourceBuilder(resource).AddSource("triton.test")
                   .AddOtlpExporter(o =>
                   {
                       o.Endpoint = endpoint;
                       o.Protocol = OtlpExportProtocol.Grpc;
                   })
                   .Build())
        {
            var start = DateTimeOffset.UtcNow.AddSeconds(-1);
            using (var a = source.StartActivity("POST /v2/models/resnet50/infer", ActivityKind.Server, default(ActivityContext), startTime: start)!)
            {
                a.SetTag("url.path", "/v2/models/resnet50/infer");
                a.SetEndTime(start.AddMilliseconds(42).UtcDateTime);
            }
            using (var b = source.StartActivity("POST /v1/chat/completions", ActivityKind.Server, default(ActivityContext), startTime: start)!)
            {
                b.SetTag("url.path", "/v1/chat/completions");
                b.SetTag("http.request.body", """{"model":"llama-3-8b-instruct","messages":[{"role":"user","content":"hi"}]}""");
                b.SetTag("gen_ai.usage.input_tokens", 9L);
                b.SetEndTime(start.AddMilliseconds(250).UtcDateTime);
            }
            using (var c = source.StartActivity("GET /healthz", ActivityKind.Server)!)
            {
                c.SetTag("url.path", "/healthz");
            }
            Assert.True(tracer.ForceFlush(30_000));
        }

        await capture.Traces.WaitForItemsAsync(3);
        var spans = capture.Traces.Received.SelectMany(r => r.Data.ResourceSpans).SelectMany(rs => rs.ScopeSpans)
            .SelectMany(ss => ss.Spans).ToDictionary(s => s.Name);

        var resnet = spans["POST /v2/models/resnet50/infer"].Attributes;
        Assert.Equal("resnet50", resnet.Get("model_id")!.StringValue);
        Assert.Equal(42.0, resnet.Get("inference_time")!.DoubleValue, 3);
        Assert.Equal(5120, resnet.Get("gpu_mem_used")!.IntValue);

        var chat = spans["POST /v1/chat/completions"].Attributes;
        Assert.Equal("llama-3-8b-instruct", chat.Get("model_id")!.StringValue); // set by transform, kept by aiattributes
        Assert.Equal(250.0, chat.Get("inference_time")!.DoubleValue, 3);
        Assert.Equal(5120, chat.Get("gpu_mem_used")!.IntValue);
        Assert.Equal(9, chat.Get("input_tokens")!.IntValue);

        var health = spans["GET /healthz"].Attributes;
        Assert.Null(health.Get("model_id"));
        Assert.Null(health.Get("inference_time"));
        Assert.Null(health.Get("gpu_mem_used"));

        await collector.StopAsync();
    }

    [Fact]
    public async Task Flood_OverOtlpHttp_Gets429_MemoryStaysUnderHardLimit_AndRecovers()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        var baselineMib = GC.GetTotalMemory(false) / (1024 * 1024);
        var limitMib = baselineMib + 320;
        var port = TestPorts.GetFree();
        // The capture exporter keeps everything it gets, like a backlog of a backend that cannot keep up.
        var capture = new CaptureExporterFactory();
        var yaml = $$"""
            receivers:
              otlp:
                protocols:
                  http: { endpoint: "127.0.0.1:{{port}}" }
            processors:
              memory_limiter:
                check_interval: 50ms
                limit_mib: {{limitMib}}
                spike_limit_mib: 160
                min_gc_interval_when_soft_limited: 1s
              batch:
                timeout: 0s
            exporters:
              capture: {}
            service:
              telemetry: { metrics: { level: none } }
              pipelines:
                traces:
                  receivers: [otlp]
                  processors: [memory_limiter, batch]
                  exporters: [capture]
            """;
        await using var collector = Collector.FromYaml(yaml, capture.WithBuiltins(), new CollectorOptions { LoggerFactory = NullLoggerFactory.Instance });
        await collector.StartAsync();

        var body = SampleData.Traces(2000).ToByteArray();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        async Task<HttpResponseMessage> PostAsync()
        {
            var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
            return await http.PostAsync($"http://127.0.0.1:{port}/v1/traces", content);
        }

        long peakBytes = 0;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peakBytes = Math.Max(peakBytes, GC.GetTotalMemory(false));
                await Task.Delay(5);
            }
        });

        // Flood until the engine pushes back (or 60 s pass).
        HttpResponseMessage? refusal = null;
        var accepted = 0;
        var floodDeadline = DateTime.UtcNow.AddSeconds(60);
        while (refusal is null && DateTime.UtcNow < floodDeadline)
        {
            var responses = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => PostAsync()));
            accepted += responses.Count(r => r.StatusCode == HttpStatusCode.OK);
            refusal = responses.FirstOrDefault(r => r.StatusCode == HttpStatusCode.TooManyRequests);
            foreach (var r in responses)
                Assert.True(r.StatusCode is HttpStatusCode.OK or HttpStatusCode.TooManyRequests,
                    $"unexpected {(int)r.StatusCode}: {await r.Content.ReadAsStringAsync()}");
        }
        Assert.NotNull(refusal);
        Assert.NotNull(refusal!.Headers.RetryAfter);
        Assert.True(accepted > 0);

        // Keep flooding: the limiter may accept again whenever a GC brings the heap under the soft limit, but
        // refused data must not pile up and the heap must stay under the hard limit throughout.
        var refusedWhileFlooding = 0;
        for (var i = 0; i < 20; i++)
        {
            var responses = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => PostAsync()));
            foreach (var r in responses)
                Assert.True(r.StatusCode is HttpStatusCode.OK or HttpStatusCode.TooManyRequests,
                    $"unexpected {(int)r.StatusCode}: {await r.Content.ReadAsStringAsync()}");
            accepted += responses.Count(r => r.StatusCode == HttpStatusCode.OK);
            refusedWhileFlooding += responses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests);
        }
        Assert.True(refusedWhileFlooding > 0, "a sustained flood over the soft limit must be refused");
        sampling.Cancel();
        await sampler;
        Assert.True(peakBytes < limitMib * 1024L * 1024, $"heap peaked at {peakBytes / (1024 * 1024)} MiB, hard limit {limitMib} MiB");

        // Everything accepted was delivered; refused data was not.
        await capture.Traces.WaitForItemsAsync(accepted * 2000);
        Assert.Equal(accepted * 2000, capture.Traces.Items);

        // The flood stops and the backlog is gone: the engine accepts again by itself.
        capture.Traces.Clear();

        var recoverDeadline = DateTime.UtcNow.AddSeconds(30);
        HttpStatusCode status;
        do
        {
            await Task.Delay(50);
            status = (await PostAsync()).StatusCode;
        } while (status != HttpStatusCode.OK && DateTime.UtcNow < recoverDeadline);
        Assert.Equal(HttpStatusCode.OK, status);
        await collector.StopAsync();
    }
}
