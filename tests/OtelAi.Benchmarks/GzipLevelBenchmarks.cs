using System.Buffers;
using BenchmarkDotNet.Attributes;
using Google.Protobuf;
using OtelAi.Otlp;
using OtelAi.Otlp.Grpc;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Resource.V1;
using OtelAi.Otlp.Proto.Trace.V1;

namespace OtelAi.Benchmarks;

/// <summary>
/// gzip of one exporter batch shaped like the load generator's traffic (50 requests x 100 spans x 2 int attributes,
/// joined as encoded payloads), at each level: CPU per batch here, bytes on the wire printed once at setup.
/// </summary>
[MemoryDiagnoser]
public class GzipLevelBenchmarks
{
    private readonly ArrayBufferWriter<byte> _output = new(1 << 20);
    private Payload<ExportTraceServiceRequest> _batch = null!;

    [Params(1, 2, 4, 6, 9)]
    public int Level { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        var parts = Enumerable.Range(0, 50).Select(r => Payload<ExportTraceServiceRequest>.TryFromWire(Request(random, r).ToByteArray())!).ToList();
        _batch = Payload<ExportTraceServiceRequest>.Concat(parts);
        _output.ResetWrittenCount();
        _batch.CompressTo(ContentCoding.Gzip, Level, _output);
        Console.WriteLine($"// gzip level {Level}: {_batch.CalculateSize()} bytes -> {_output.WrittenCount} bytes");
    }

    [Benchmark]
    public int Compress()
    {
        _output.ResetWrittenCount();
        _batch.CompressTo(ContentCoding.Gzip, Level, _output);
        return _output.WrittenCount;
    }

    private static ExportTraceServiceRequest Request(Random random, int round)
    {
        var traceId = new byte[16];
        random.NextBytes(traceId);
        var scope = new ScopeSpans { Scope = new InstrumentationScope { Name = "loadgen" } };
        for (var i = 0; i < 100; i++)
        {
            var spanId = new byte[8];
            random.NextBytes(spanId);
            var start = 1_700_000_000_000_000_000UL + (ulong)(round * 100 + i) * 1_000_000UL;
            scope.Spans.Add(new Span
            {
                TraceId = ByteString.CopyFrom(traceId),
                SpanId = ByteString.CopyFrom(spanId),
                Name = "load-generator-span",
                Kind = Span.Types.SpanKind.Client,
                StartTimeUnixNano = start,
                EndTimeUnixNano = start + 1_000_000UL,
                Attributes =
                {
                    new KeyValue { Key = "load_generator.span_seq_num", Value = new AnyValue { IntValue = round * 100 + i } },
                    new KeyValue { Key = "load_generator.trace_seq_num", Value = new AnyValue { IntValue = round } },
                },
            });
        }
        var resource = new Resource { Attributes = { new KeyValue { Key = "service.name", Value = new AnyValue { StringValue = "loadgen" } } } };
        return new ExportTraceServiceRequest { ResourceSpans = { new ResourceSpans { Resource = resource, ScopeSpans = { scope } } } };
    }
}
