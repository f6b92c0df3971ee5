using BenchmarkDotNet.Attributes;
using Google.Protobuf;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Otlp.Proto.Trace.V1;
using OtelAi.Processors.Anomaly;
using OtelAi.TestSupport;

namespace OtelAi.Benchmarks;

/// <summary>
/// The anomaly connector's ingest and evaluation with 1,000 groups (model × version × instance) and 3 rules over
/// one series of span durations (60 s window, 5 s steps): a request of 100 spans spread over the groups, and one
/// step (its 2,000 spans, then every rule judged on every group's window: subtract the ingest figure × 20 for the
/// evaluation alone). Retained bytes per group are printed at setup.
/// </summary>
[MemoryDiagnoser]
public class AnomalyBenchmarks
{
    private const string Config = """
        window: 60s
        step: 5s
        max_groups: 2000
        series:
          - name: latency
            source: span_duration
            group_by: [model_id, model_version, service.instance.id]
        rules:
          - {name: p95_regression, series: latency, statistic: p95, detector: ratio_to_previous, above: 1.5}
          - {name: slow_request, series: latency, statistic: max, detector: threshold, above: 3000}
          - {name: latency_sigma, series: latency, statistic: mean, detector: sigma, history: 5}
        """;

    private AnomalyEngine _engine = null!;
    private ManualTime _time = null!;
    private ExportTraceServiceRequest[] _requests = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(5);
        _requests = Enumerable.Range(0, 10).Select(r =>
        {
            var scope = new ScopeSpans();
            for (var i = 0; i < 100; i++)
            {
                var group = random.Next(1000);
                scope.Spans.Add(new Span
                {
                    TraceId = ByteString.CopyFrom(Guid.NewGuid().ToByteArray()), SpanId = ByteString.CopyFrom(BitConverter.GetBytes(random.NextInt64())),
                    Name = "infer", StartTimeUnixNano = 1_000_000_000, EndTimeUnixNano = 1_000_000_000 + (ulong)random.Next(20_000_000, 400_000_000),
                    Attributes =
                    {
                        SampleData.Attr("model_id", $"model-{group % 20}"), SampleData.Attr("model_version", $"v{group / 20 % 5}"),
                        SampleData.Attr("service.instance.id", $"pod-{group / 100}"),
                    },
                });
            }
            return new ExportTraceServiceRequest { ResourceSpans = { new ResourceSpans { Resource = SampleData.Resource("triton"), ScopeSpans = { scope } } } };
        }).ToArray();

        // Steady state: traffic in every step of the ring (the window and the sigma history), every group seen often.
        var time = _time = new ManualTime();
        var before = GC.GetTotalMemory(forceFullCollection: true);
        _engine = new AnomalyEngine(TestSettings.For(new ComponentId("anomaly"), ComponentKind.Connector), ConfigLoader.Bind<AnomalyConfig>(Config), time);
        for (var step = 0; step < 100; step++)
        {
            for (var i = 0; i < 20; i++) _engine.Observe(_requests[(step + i) % _requests.Length]);
            time.Advance(TimeSpan.FromSeconds(5));
        }
        var after = GC.GetTotalMemory(forceFullCollection: true);
        Console.WriteLine($"// anomaly engine with 1000 groups: {(after - before) / 1000} bytes retained per group");
    }

    [Benchmark(Description = "ingest: 100 spans")]
    public void Observe() => _engine.Observe(_requests[_next++ % _requests.Length]);

    /// <summary>A step of traffic, then the clock moves a step and the window that closed is judged (an evaluation without a new step judges nothing).</summary>
    [Benchmark(Description = "step: 2000 spans, then 3 rules x 1000 groups judged")]
    public Task Step()
    {
        for (var i = 0; i < 20; i++) _engine.Observe(_requests[_next++ % _requests.Length]);
        _time.Advance(TimeSpan.FromSeconds(5));
        return _engine.EvaluateAsync(CancellationToken.None);
    }
}
