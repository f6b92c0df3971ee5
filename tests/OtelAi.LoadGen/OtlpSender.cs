using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using OtelAi.Otlp.Grpc;
using OtelAi.Otlp;

namespace OtelAi.LoadGen;

/// <summary>
/// Sends pre-encoded OTLP requests over gRPC (our wire primitives on SocketsHttpHandler, HTTP/2 prior knowledge)
/// or OTLP/HTTP protobuf. Bodies are encoded once; each send only wraps them in a request.
/// </summary>
public sealed class OtlpSender : IDisposable
{
    private readonly HttpClient _client;
    private readonly Uri _uri;
    private readonly bool _grpc;
    private readonly bool _gzip;
    private readonly byte[][] _bodies;

    public OtlpSender(LoadOptions options, IReadOnlyList<IMessage> requests)
    {
        _grpc = options.Transport == Transport.Grpc;
        _gzip = options.Gzip;
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            AutomaticDecompression = DecompressionMethods.None,
        };
        _client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
        var baseUri = options.Endpoint.Contains("://", StringComparison.Ordinal) ? options.Endpoint : "http://" + options.Endpoint;
        _uri = new Uri(new Uri(baseUri), _grpc ? GrpcPath(options.Signal) : HttpPath(options.Signal));
        _bodies = requests.Select(Encode).ToArray();
    }

    public int DistinctBodies => _bodies.Length;

    private static string GrpcPath(Signal signal) => signal switch
    {
        Signal.Traces => "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
        Signal.Metrics => "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
        _ => "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
    };

    private static string HttpPath(Signal signal) => "/v1/" + signal.ToConfigName();

    private byte[] Encode(IMessage message)
    {
        using var buffer = new PooledBufferWriter(message.CalculateSize() + 16);
        if (_grpc)
        {
            if (_gzip) GrpcFraming.WriteCompressedMessage(buffer, message);
            else GrpcFraming.WriteMessage(buffer, message);
        }
        else if (_gzip)
        {
            MessageCompression.Compress(message.ToByteArray(), ContentCoding.Gzip, buffer);
        }
        else
        {
            message.WriteTo(buffer);
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Sends body <paramref name="index"/>; returns null on success, else what went wrong (status code or gRPC status).</summary>
    public async Task<string?> SendAsync(int index, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _uri)
        {
            Version = _grpc ? HttpVersion.Version20 : HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(_bodies[index % _bodies.Length]),
        };
        if (_grpc)
        {
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
            request.Headers.TryAddWithoutValidation("te", "trailers");
            request.Headers.TryAddWithoutValidation("grpc-timeout", "10S");
            if (_gzip) request.Headers.TryAddWithoutValidation("grpc-encoding", "gzip");
        }
        else
        {
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
            if (_gzip) request.Content.Headers.ContentEncoding.Add("gzip");
        }

        using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        if (!_grpc) return response.IsSuccessStatusCode ? null : $"HTTP {(int)response.StatusCode}";
        if (response.StatusCode != HttpStatusCode.OK) return $"HTTP {(int)response.StatusCode}";
        var status = Header(response.TrailingHeaders, "grpc-status") ?? Header(response.Headers, "grpc-status");
        return status == "0" ? null : $"grpc-status {status ?? "missing"}";
    }

    private static string? Header(HttpHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    public void Dispose() => _client.Dispose();
}
