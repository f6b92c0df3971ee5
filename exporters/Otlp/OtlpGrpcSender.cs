using OtelAi.Otlp.Protobuf;
using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.Exporter;
using OtelAi.Engine.Settings;
using OtelAi.Otlp.Grpc;
using OtelAi.Otlp;

namespace OtelAi.Exporters.Otlp;

/// <summary>
/// One unary OTLP/gRPC Export call per request over HttpClient (HTTP/2; h2c by prior knowledge when TLS is off):
/// framed (optionally gzip) protobuf, grpc-timeout from the attempt deadline, status from trailers or a
/// trailers-only response, retryability per the OTLP spec, partial_success from the response message.
/// </summary>
internal sealed class OtlpGrpcSender<T> : IExportSender<T>, IDisposable where T : class, IMessage<T>, new()
{
    // A response is an Export*ServiceResponse: tiny unless a server writes a long error_message.
    private const int MaxResponseMessageBytes = 4 * 1024 * 1024;
    private static readonly MediaTypeHeaderValue GrpcContentType = new("application/grpc");

    private readonly HttpClient _client;
    private readonly Uri _uri;
    private readonly bool _gzip;
    private readonly int _compressionLevel;
    private readonly TimeSpan _timeout;
    private readonly KeyValuePair<string, string>[] _headers;
    private readonly OtlpSignal<T> _signal = OtlpSignal<T>.Instance;

    private readonly ClientCredentials _credentials;

    public OtlpGrpcSender(OtlpExporterConfig config)
    {
        _credentials = new ClientCredentials(config.Client.Auth);
        var client = config.Client;
        if (!GrpcEndpoint.TryParse(client.Endpoint, client.Tls.Insecure, out var endpoint, out var error))
            throw new ArgumentException($"endpoint: {error}");
        _uri = new Uri(endpoint.BaseUri, _signal.GrpcMethodPath);
        _gzip = client.Compression == Compression.Gzip;
        _compressionLevel = client.CompressionParams.EffectiveLevel;
        _timeout = config.TimeoutSettings.Timeout;
        _headers = client.Headers.ToArray();
        _client = OtlpHttpClient.Create(client.Tls, endpoint.Host, endpoint.UseTls, client.Keepalive);
    }

    /// <summary>The request framed (gzip-compressed when configured) in a pooled buffer sized by one measurement.</summary>
    private PooledBufferWriter Frame(Payload<T> request)
    {
        var body = new PooledBufferWriter(request.SizeHint / (_gzip ? 4 : 1) + GrpcFraming.PrefixLength);
        try
        {
            GrpcFraming.WritePayload(body, request, _gzip ? _compressionLevel : null);
            return body;
        }
        catch
        {
            body.Dispose();
            throw;
        }
    }

    /// <summary>Encoded payloads are framed as they are.</summary>
    public bool ReadsContent => false;

    public Task StartAsync(OtelAi.Engine.Components.IComponentHost host, CancellationToken cancellationToken) => _credentials.StartAsync(host);

    public async ValueTask<SendResult> SendAsync(Payload<T> request, CancellationToken cancellationToken)
    {
        using var body = Frame(request);

        using var message = new HttpRequestMessage(HttpMethod.Post, _uri)
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ReadOnlyMemoryContent(body.WrittenMemory),
        };
        message.Content.Headers.ContentType = GrpcContentType;
        message.Headers.TryAddWithoutValidation("te", "trailers");
        message.Headers.UserAgent.Add(OtlpHttpClient.UserAgent);
        message.Headers.TryAddWithoutValidation("grpc-accept-encoding", "gzip");
        if (_gzip) message.Headers.TryAddWithoutValidation("grpc-encoding", "gzip");
        _credentials.Apply(message.Headers);
        if (_timeout > TimeSpan.Zero) message.Headers.TryAddWithoutValidation("grpc-timeout", GrpcTimeout.Format(_timeout));
        foreach (var (name, value) in _headers) message.Headers.TryAddWithoutValidation(name, value);

        var (response, responseBody) = await OtlpHttpClient.SendAsync(_client, message, _uri.Authority, cancellationToken);

        using (response)
        {
            if (response.StatusCode != HttpStatusCode.OK && !HasStatus(response.Headers))
                throw FromHttpStatus((int)response.StatusCode).ToDataException(_uri.Authority);
            // Trailers-only responses carry the status in the headers; normal responses in the trailers.
            var status = ReadStatus(response.Headers) ?? ReadStatus(response.TrailingHeaders)
                ?? new GrpcStatus(GrpcStatusCode.Internal, "the server ended the call without grpc-status");
            if (status.Code != GrpcStatusCode.OK) throw status.ToDataException(_uri.Authority);
            return ReadPartialSuccess(response, responseBody);
        }
    }

    private SendResult ReadPartialSuccess(HttpResponseMessage response, byte[] responseBody)
    {
        var buffer = new ReadOnlySequence<byte>(responseBody);
        if (buffer.IsEmpty) return SendResult.Success;
        if (GrpcFraming.TryReadFrame(ref buffer, MaxResponseMessageBytes, out var frame, out _) != GrpcFrameResult.Complete)
            return new SendResult(0, "the server answered OK with a malformed response message");
        try
        {
            ExportPartialSuccess partial;
            if (frame.Compressed)
            {
                var encoding = response.Headers.TryGetValues("grpc-encoding", out var values) ? values.FirstOrDefault() : null;
                if (!MessageCompression.TryParse(encoding, out var coding) || coding == ContentCoding.Identity)
                    return SendResult.Success with { Message = $"response compressed with unsupported grpc-encoding \"{encoding}\"" };
                using var plain = new PooledBufferWriter();
                MessageCompression.Decompress(frame.Payload, coding, MaxResponseMessageBytes, plain);
                partial = _signal.ParseProtoResponse(plain.WrittenSpan);
            }
            else
            {
                partial = _signal.ParseProtoResponse(frame.Payload.ToArray());
            }
            return partial.RejectedItems > 0 || partial.Message.Length > 0 ? new SendResult(partial.RejectedItems, partial.Message) : SendResult.Success;
        }
        catch (Exception ex) when (ex is InvalidProtocolBufferException or InvalidDataException or DecompressedSizeExceededException)
        {
            // The call succeeded; an unreadable response only loses the partial-success detail.
            return new SendResult(0, $"unreadable response message: {ex.Message}");
        }
    }

    private static bool HasStatus(HttpHeaders headers) => headers.Contains("grpc-status");

    private static GrpcStatus? ReadStatus(HttpHeaders headers)
    {
        if (!headers.TryGetValues("grpc-status", out var codes)) return null;
        var code = int.TryParse(codes.FirstOrDefault(), out var number) ? (GrpcStatusCode)number : GrpcStatusCode.Unknown;
        var message = headers.TryGetValues("grpc-message", out var messages) ? messages.FirstOrDefault() : null;
        var details = headers.TryGetValues("grpc-status-details-bin", out var detailValues) ? detailValues.FirstOrDefault() : null;
        return GrpcStatus.FromTrailers(code, message, details);
    }

    /// <summary>gRPC's mapping of an HTTP status from a non-gRPC intermediary to a gRPC status (grpc/doc/http-grpc-status-mapping.md).</summary>
    private static GrpcStatus FromHttpStatus(int httpStatus) => httpStatus switch
    {
        400 => new(GrpcStatusCode.Internal, "HTTP 400 from the server"),
        401 => new(GrpcStatusCode.Unauthenticated, "HTTP 401 from the server"),
        403 => new(GrpcStatusCode.PermissionDenied, "HTTP 403 from the server"),
        404 => new(GrpcStatusCode.Unimplemented, "HTTP 404 from the server"),
        429 or 502 or 503 or 504 => new(GrpcStatusCode.Unavailable, $"HTTP {httpStatus} from the server"),
        _ => new(GrpcStatusCode.Unknown, $"HTTP {httpStatus} from the server"),
    };

    public void Dispose() => _client.Dispose();
}
