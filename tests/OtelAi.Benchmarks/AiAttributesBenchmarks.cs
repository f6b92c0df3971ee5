using BenchmarkDotNet.Attributes;
using Google.Protobuf;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Trace.V1;
using OtelAi.Processors.AiAttributes;

namespace OtelAi.Benchmarks;

/// <summary>
/// aiattributes with its default config on one 100-span request with 20 string attributes per span (the go-relay's
/// s2 shape), span names either without a model ("load-generator-span") or with one in the path.
/// </summary>
[MemoryDiagnoser]
public class AiAttributesBenchmarks
{
    private AiEnricher _enricher = null!;
    private ExportTraceServiceRequest _request = null!;

    [Params("load-generator-span", "POST /v2/models/resnet50/infer")]
    public string SpanName { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        _enricher = new AiEnricher(new AiAttributesConfig(), new GpuMemoryStore());
        var scope = new ScopeSpans();
        for (var i = 0; i < 100; i++)
        {
            var span = new Span
            {
                TraceId = ByteString.CopyFrom(new byte[16] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 }),
                SpanId = ByteString.CopyFrom(BitConverter.GetBytes((long)i + 1)),
                Name = SpanName,
                Kind = Span.Types.SpanKind.Server,
                StartTimeUnixNano = 1_700_000_000_000_000_000UL,
                EndTimeUnixNano = 1_700_000_000_001_000_000UL,
            };
            for (var a = 0; a < 20; a++)
                span.Attributes.Add(new KeyValue { Key = $"attribute.key.{a:D2}xx", Value = new AnyValue { StringValue = $"value-{a}-vvvvvvvvvvvv" } });
            scope.Spans.Add(span);
        }
        _request = new ExportTraceServiceRequest { ResourceSpans = { new ResourceSpans { ScopeSpans = { scope } } } };
    }

    /// <summary>Enriches the request, then takes the added attributes off again (a few list removals) so each call enriches from scratch.</summary>
    [Benchmark]
    public void Enrich100Spans()
    {
        _enricher.Mutate(_request);
        foreach (var span in _request.ResourceSpans[0].ScopeSpans[0].Spans)
            while (span.Attributes.Count > 20) span.Attributes.RemoveAt(span.Attributes.Count - 1);
    }
}
