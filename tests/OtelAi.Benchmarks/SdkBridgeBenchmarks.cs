using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OtelAi.Engine;
using OtelAi.Hosting;
using OtelAi.Hosting.Bridge;
using OtelAi.TestSupport;

namespace OtelAi.Benchmarks;

/// <summary>
/// An embedded service's spans into its in-process collector: the bridge (convert to OTLP messages, hand to the
/// inprocess receiver) against the SDK's own OTLP exporter sending the same batch over loopback gRPC to the same
/// collector's otlp receiver (both sides in this process, so the receiver's decoding counts too). 512 finished
/// inference-shaped spans (12 attributes, an event) per export, the SDK's default batch size.
/// </summary>
[MemoryDiagnoser]
public class SdkBridgeBenchmarks
{
    private const int Spans = 512;
    private Collector _collector = null!;
    private ActivitySource _source = null!;
    private ActivityListener _listener = null!;
    private Activity[] _activities = null!;
    private OtelAiTraceExporter _bridge = null!;
    private OtlpTraceExporter _otlp = null!;

    [GlobalSetup]
    public void Setup()
    {
        var port = TestPorts.GetFree();
        _collector = DiscardingCollector.Start("  inprocess:\n" + DiscardingCollector.OtlpGrpc(port), ["inprocess", "otlp"], new InProcessReceiverFactory());

        _source = new ActivitySource("inference.bench", "1.0");
        _listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == _source.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(_listener);
        _activities = new Activity[Spans];
        for (var i = 0; i < Spans; i++)
        {
            var activity = _source.StartActivity("POST /v1/chat/completions", ActivityKind.Server)!;
            activity.SetTag("http.request.method", "POST");
            activity.SetTag("http.route", "/v1/chat/completions");
            activity.SetTag("http.response.status_code", 200);
            activity.SetTag("url.scheme", "http");
            activity.SetTag("server.address", "inference-api");
            activity.SetTag("gen_ai.operation.name", "chat");
            activity.SetTag("gen_ai.request.model", i % 2 == 0 ? "llama-3-70b" : "mistral-7b");
            activity.SetTag("gen_ai.usage.input_tokens", 812 + i);
            activity.SetTag("gen_ai.usage.output_tokens", 144L);
            activity.SetTag("gen_ai.request.temperature", 0.7);
            activity.SetTag("gen_ai.response.finish_reasons", new[] { "stop" });
            activity.SetTag("user.tier", "pro");
            activity.AddEvent(new ActivityEvent("gen_ai.content.prompt"));
            activity.Stop();
            _activities[i] = activity;
        }
        _bridge = new OtelAiTraceExporter(new OtelAiExporterOptions().Target(() => _collector));
        _otlp = new OtlpTraceExporter(new OtlpExporterOptions { Endpoint = new Uri($"http://127.0.0.1:{port}"), Protocol = OtlpExportProtocol.Grpc });
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _otlp.Dispose();
        _bridge.Dispose();
        _listener.Dispose();
        _source.Dispose();
        _collector.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Spans, Description = "SDK OTLP exporter → gRPC → otlp receiver (per span)")]
    public ExportResult SdkOtlpExporter() => _otlp.Export(new Batch<Activity>(_activities, Spans));

    [Benchmark(OperationsPerInvoke = Spans, Description = "bridge → inprocess receiver (per span)")]
    public ExportResult Bridge() => _bridge.Export(new Batch<Activity>(_activities, Spans));
}
