using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using OtelAi.Otlp.Grpc;

namespace OtelAi.OtlpReceiver.Tests;

/// <summary>Raw HTTP/2 (prior knowledge) gRPC calls and raw OTLP/HTTP posts, for exact protocol assertions.</summary>
internal static class WireClients
{
    public const string TracesMethod = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
    public const string MetricsMethod = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
    public const string LogsMethod = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";

    public static HttpClient CreateH2c() => new(new SocketsHttpHandler { EnableMultipleHttp2Connections = true })
    {
        DefaultRequestVersion = HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Timeout = TimeSpan.FromSeconds(60),
    };

    public static byte[] Frame(IMessage message)
    {
        var writer = new ArrayBufferWriter<byte>();
        GrpcFraming.WriteMessage(writer, message);
        return writer.WrittenSpan.ToArray();
    }

    public static byte[] Frame(byte[] payload, bool compressed)
    {
        var writer = new ArrayBufferWriter<byte>();
        GrpcFraming.WriteFrame(writer, payload, compressed);
        return writer.WrittenSpan.ToArray();
    }

    public sealed record GrpcReply(HttpStatusCode HttpStatus, GrpcStatus Status, byte[] Body, HttpResponseMessage Response, bool TrailersOnly);

    public static async Task<GrpcReply> CallGrpcAsync(HttpClient client, string baseUrl, string path, byte[] body,
        string method = "POST", string contentType = "application/grpc", IDictionary<string, string>? headers = null)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), baseUrl + path)
        {
            Content = new ByteArrayContent(body),
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
            request.Headers.TryAddWithoutValidation(name, value);
        var response = await client.SendAsync(request);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var trailersOnly = response.Headers.Contains("grpc-status");
        var source = trailersOnly ? response.Headers : response.TrailingHeaders;
        string? Get(string name) => source.TryGetValues(name, out var values) ? values.First() : null;
        var code = Get("grpc-status") is { } text ? (GrpcStatusCode)int.Parse(text) : (GrpcStatusCode)(-1);
        return new GrpcReply(response.StatusCode, GrpcStatus.FromTrailers(code, Get("grpc-message"), Get("grpc-status-details-bin")), bytes, response, trailersOnly);
    }

    /// <summary>Parses the single response message of a successful unary call.</summary>
    public static T ParseReply<T>(GrpcReply reply, MessageParser<T> parser) where T : IMessage<T>
    {
        var sequence = new ReadOnlySequence<byte>(reply.Body);
        Assert.Equal(GrpcFrameResult.Complete, GrpcFraming.TryReadFrame(ref sequence, 1 << 20, out var frame, out _));
        Assert.False(frame.Compressed);
        Assert.True(sequence.IsEmpty);
        return parser.ParseFrom(frame.Payload);
    }

    public static async Task<HttpResponseMessage> PostAsync(HttpClient client, string url, byte[] body, string contentType,
        string? contentEncoding = null, string method = "POST")
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (contentEncoding is not null) request.Content.Headers.ContentEncoding.Add(contentEncoding);
        return await client.SendAsync(request);
    }

    public static byte[] Compress(byte[] data, ContentCoding coding)
    {
        var writer = new ArrayBufferWriter<byte>();
        MessageCompression.Compress(data, coding, writer);
        return writer.WrittenSpan.ToArray();
    }
}
