using System.Buffers;
using System.Net;
using BenchmarkDotNet.Attributes;
using Google.Protobuf;
using OtelAi.Engine.Components;
using OtelAi.Engine.Consumers;
using OtelAi.Otlp.Grpc;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Receivers.Otlp;
using OtelAi.TestSupport;

namespace OtelAi.Benchmarks;

/// <summary>
/// The otlp receiver's gRPC hot path on 100-span requests: frame parse + protobuf decode (per core throughput of the
/// decoding itself), for issue 3's two scenarios (2 int attributes; 20 string attributes per span), and a whole
/// unary Export through Kestrel over loopback h2c into a no-op consumer (client cost included).
/// </summary>
[MemoryDiagnoser]
public class OtlpReceiverBenchmarks
{
    private ReadOnlySequence<byte> _framed;
    private ReadOnlySequence<byte> _framedGzip;
    private byte[] _framedBytes = null!;
    private IComponent? _receiver;
    private HttpClient? _client;
    private string _url = "";

    [Params(2, 20)]
    public int AttributesPerSpan { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var request = Request(100, AttributesPerSpan);
        var writer = new ArrayBufferWriter<byte>();
        GrpcFraming.WriteMessage(writer, request);
        _framedBytes = writer.WrittenSpan.ToArray();
        _framed = new ReadOnlySequence<byte>(_framedBytes);
        using var gzip = new PooledBufferWriter();
        GrpcFraming.WriteCompressedMessage(gzip, request);
        _framedGzip = new ReadOnlySequence<byte>(gzip.WrittenSpan.ToArray());
    }

    /// <summary>100 spans like otelcol's Trace10kSPS load: 2 int attributes, or 20 string attributes.</summary>
    private static ExportTraceServiceRequest Request(int spans, int attributes)
    {
        var request = SampleData.Traces(spans);
        foreach (var span in request.ResourceSpans[0].ScopeSpans[0].Spans)
        {
            span.Attributes.Clear();
            span.Events.Clear();
            span.Links.Clear();
            for (var i = 0; i < attributes; i++)
                span.Attributes.Add(attributes <= 2
                    ? SampleData.Attr($"load.int.{i}", (long)i * 7919)
                    : SampleData.Attr($"load.attribute.{i}", $"value-{i}-of-the-load-generator"));
        }
        return request;
    }

    [Benchmark(Description = "frame parse + decode, 100 spans")]
    public int FrameParseAndDecode()
    {
        var buffer = _framed;
        GrpcFraming.TryReadFrame(ref buffer, 4 << 20, out var frame, out _);
        return ExportTraceServiceRequest.Parser.ParseFrom(frame.Payload).ResourceSpans.Count;
    }

    [Benchmark(Description = "frame parse + gunzip + decode, 100 spans")]
    public int FrameParseGunzipAndDecode()
    {
        var buffer = _framedGzip;
        GrpcFraming.TryReadFrame(ref buffer, 4 << 20, out var frame, out _);
        using var plain = new PooledBufferWriter(64 * 1024);
        MessageCompression.Decompress(frame.Payload, ContentCoding.Gzip, 4 << 20, plain);
        return ExportTraceServiceRequest.Parser.ParseFrom(plain.WrittenSpan).ResourceSpans.Count;
    }

    [GlobalSetup(Target = nameof(UnaryExportOverLoopback))]
    public void SetupServer()
    {
        Setup();
        var port = TestPorts.GetFree();
        var config = new OtlpReceiverConfig { Protocols = new OtlpProtocolsConfig { Grpc = new OtlpGrpcConfig { Server = new() { Endpoint = $"127.0.0.1:{port}" } } } };
        _receiver = new OtlpReceiverFactory().CreateReceiver(
            TestSettings.For(new ComponentId("otlp"), ComponentKind.Receiver), config,
            new ReceiverConsumers(new Discard<ExportTraceServiceRequest>(), null, null));
        _receiver.StartAsync(new TestHost(), CancellationToken.None).GetAwaiter().GetResult();
        _client = new HttpClient(new SocketsHttpHandler()) { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        _url = $"http://127.0.0.1:{port}/opentelemetry.proto.collector.trace.v1.TraceService/Export";
    }

    [Benchmark(Description = "unary Export via Kestrel h2c, 100 spans")]
    public async Task<int> UnaryExportOverLoopback()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _url)
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(_framedBytes),
        };
        request.Content.Headers.ContentType = new("application/grpc");
        using var response = await _client!.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();
        return response.TrailingHeaders.GetValues("grpc-status").First() == "0" ? body.Length : throw new InvalidOperationException("export failed");
    }

    [GlobalCleanup(Target = nameof(UnaryExportOverLoopback))]
    public void CleanupServer()
    {
        _client?.Dispose();
        _receiver?.ShutdownAsync(CancellationToken.None).GetAwaiter().GetResult();
    }
}
