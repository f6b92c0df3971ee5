using System.Buffers;
using BenchmarkDotNet.Attributes;
using Google.Protobuf;
using OtelAi.Otlp.Json;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.TestSupport;

namespace OtelAi.Benchmarks;

/// <summary>
/// The OTLP/JSON codec on a 100-span request (the OTLP/HTTP JSON hot path), beside binary protobuf and
/// Google.Protobuf's own JsonFormatter for scale.
/// </summary>
[MemoryDiagnoser]
public class OtlpJsonBenchmarks
{
    private ExportTraceServiceRequest _request = null!;
    private byte[] _json = null!;
    private ReadOnlySequence<byte> _jsonSequence;
    private byte[] _protobuf = null!;
    private readonly ArrayBufferWriter<byte> _output = new(256 * 1024);

    [GlobalSetup]
    public void Setup()
    {
        _request = SampleData.Traces(100);
        _json = OtlpJson.ToUtf8Bytes(_request);
        _jsonSequence = new ReadOnlySequence<byte>(_json);
        _protobuf = _request.ToByteArray();
    }

    [Benchmark]
    public ExportTraceServiceRequest DecodeJson() => OtlpJson.Parse<ExportTraceServiceRequest>(_json);

    [Benchmark]
    public ExportTraceServiceRequest DecodeJsonSequence() => OtlpJson.Parse<ExportTraceServiceRequest>(_jsonSequence);

    /// <summary>The floor: tokenising the same bytes with Utf8JsonReader and building nothing.</summary>
    [Benchmark]
    public int TokenizeJsonOnly()
    {
        var reader = new System.Text.Json.Utf8JsonReader(_json);
        var tokens = 0;
        while (reader.Read()) tokens++;
        return tokens;
    }

    [Benchmark]
    public int EncodeJson()
    {
        _output.ResetWrittenCount();
        OtlpJson.Write(_request, _output);
        return _output.WrittenCount;
    }

    [Benchmark]
    public ExportTraceServiceRequest DecodeProtobuf() => ExportTraceServiceRequest.Parser.ParseFrom(_protobuf);

    [Benchmark]
    public int EncodeProtobuf() => _request.ToByteArray().Length;

    [Benchmark]
    public string EncodeGoogleJsonFormatter() => JsonFormatter.Default.Format(_request);
}
