using OtelAi.Otlp.Protobuf;
using System.Buffers;
using BenchmarkDotNet.Attributes;
using Google.Protobuf;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Metrics.V1;
using OtelAi.TestSupport;

namespace OtelAi.Benchmarks;

/// <summary>
/// Protobuf encoding of export requests as the exporters do it: Google.Protobuf's CalculateSize + WriteTo (which
/// re-sizes every nested message at each level) against OtlpProtobuf (each size computed once).
/// </summary>
[MemoryDiagnoser]
public class OtlpSerializationBenchmarks
{
    private readonly ArrayBufferWriter<byte> _output = new(4 << 20);
    private IMessage _request = null!;

    [Params("gauge-8192x2attrs", "spans-1000x20attrs", "logs-1000")]
    public string Request { get; set; } = "";

    [GlobalSetup]
    public void Setup() => _request = Request switch
    {
        "gauge-8192x2attrs" => Gauge(8192),
        "spans-1000x20attrs" => Spans(1000, 20),
        "logs-1000" => SampleData.Logs(1000),
        _ => throw new ArgumentException(Request),
    };

    [Benchmark(Baseline = true)]
    public int GoogleProtobuf()
    {
        _output.ResetWrittenCount();
        var size = _request.CalculateSize();
        _request.WriteTo(_output);
        return size;
    }

    [Benchmark]
    public int OtlpProtobufSerialize()
    {
        _output.ResetWrittenCount();
        using var measured = OtlpProtobuf.Measure(_request);
        measured.WriteTo(_output);
        return measured.Size;
    }

    /// <summary>The measuring pass alone (what the queue's byte sizer pays).</summary>
    [Benchmark]
    public int OtlpProtobufMeasureOnly() => OtlpProtobuf.CalculateSize(_request);

    /// <summary>One metric with one gauge of <paramref name="points"/> double points, two attributes each (an eBPF batch).</summary>
    private static ExportMetricsServiceRequest Gauge(int points)
    {
        var gauge = new Gauge();
        for (var i = 0; i < points; i++)
        {
            gauge.DataPoints.Add(new NumberDataPoint
            {
                TimeUnixNano = 1_700_000_000_000_000_000UL + (ulong)i,
                AsDouble = i * 0.5,
                Attributes = { SampleData.Attr("pid", 1000L + i % 64), SampleData.Attr("comm", $"worker-{i % 16}") },
            });
        }
        var metric = new Metric { Name = "process.syscall.latency", Unit = "ns", Gauge = gauge };
        return new ExportMetricsServiceRequest
        {
            ResourceMetrics = { new ResourceMetrics { Resource = SampleData.Resource("ebpf"), ScopeMetrics = { new ScopeMetrics { Scope = new InstrumentationScope { Name = "otelai.ebpf" }, Metrics = { metric } } } } },
        };
    }

    private static ExportTraceServiceRequest Spans(int spans, int attributes)
    {
        var request = SampleData.Traces(spans);
        foreach (var span in request.ResourceSpans[0].ScopeSpans[0].Spans)
        {
            span.Attributes.Clear();
            for (var a = 0; a < attributes; a++) span.Attributes.Add(SampleData.Attr($"attribute.key.{a}", $"value-{a}-{span.Name}"));
        }
        return request;
    }
}
