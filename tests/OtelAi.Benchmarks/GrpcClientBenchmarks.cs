using BenchmarkDotNet.Attributes;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using OtelAi.Engine;
using OtelAi.Engine.Exporter;
using OtelAi.Engine.Settings;
using OtelAi.Exporters.Otlp;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.TestSupport;

namespace OtelAi.Benchmarks;

/// <summary>
/// The otlp exporter's gRPC client against Grpc.Net.Client 2.85.0 (what issue 13 asks us to measure before switching):
/// the same unary Export of 100 spans × 20 string attributes to the same in-process otlp receiver over loopback h2c,
/// uncompressed and gzip. Grpc.Net.Client gets a marshaller over our serializer that writes the payload's encoded bytes
/// as they are (no extra copy), as our client does; both parse the (empty) response.
/// </summary>
[MemoryDiagnoser]
public class GrpcClientBenchmarks
{
    private static readonly Method<Payload<ExportTraceServiceRequest>, ExportTraceServiceResponse> ExportMethod = new(
        MethodType.Unary, "opentelemetry.proto.collector.trace.v1.TraceService", "Export",
        Marshallers.Create<Payload<ExportTraceServiceRequest>>(
            (payload, context) =>
            {
                context.SetPayloadLength(payload.SizeHint);
                payload.WriteTo(context.GetBufferWriter());
                context.Complete();
            },
            _ => throw new NotSupportedException("requests are only written")),
        Marshallers.Create<ExportTraceServiceResponse>(
            (response, context) => context.Complete(response.ToByteArray()),
            context => ExportTraceServiceResponse.Parser.ParseFrom(context.PayloadAsReadOnlySequence())));

    private Collector _collector = null!;
    private Payload<ExportTraceServiceRequest> _payload = null!;
    private OtlpGrpcSender<ExportTraceServiceRequest> _ours = null!;
    private GrpcChannel _channel = null!;
    private CallInvoker _invoker = null!;
    private CallOptions _callOptions;

    [Params(false, true)]
    public bool Gzip { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var port = TestPorts.GetFree();
        _collector = DiscardingCollector.Start(DiscardingCollector.OtlpGrpc(port), ["otlp"]);

        var request = SampleData.Traces(100);
        foreach (var span in request.ResourceSpans[0].ScopeSpans[0].Spans)
        {
            span.Attributes.Clear();
            for (var i = 0; i < 20; i++) span.Attributes.Add(SampleData.Attr($"load.attribute.{i}", $"value-{i}-of-the-load-generator"));
        }
        _payload = Payload<ExportTraceServiceRequest>.Parse(request.ToByteArray());

        _ours = new OtlpGrpcSender<ExportTraceServiceRequest>(new OtlpExporterConfig
        {
            Client = new GrpcClientSettings
            {
                Endpoint = $"127.0.0.1:{port}",
                Tls = new TlsClientSettings { Insecure = true },
                Compression = Gzip ? Compression.Gzip : Compression.None,
            },
        });
        _channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}");
        _invoker = _channel.CreateCallInvoker();
        _callOptions = Gzip ? new CallOptions(new Metadata { { "grpc-internal-encoding-request", "gzip" } }) : default;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _ours.Dispose();
        _channel.Dispose();
        _collector.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(Baseline = true, Description = "ours (HttpClient + own framing)")]
    public async Task<SendResult> Ours() => await _ours.SendAsync(_payload, CancellationToken.None);

    [Benchmark(Description = "Grpc.Net.Client 2.85.0")]
    public async Task<ExportTraceServiceResponse> GrpcNetClient() => await _invoker.AsyncUnaryCall(ExportMethod, null, _callOptions, _payload);
}
