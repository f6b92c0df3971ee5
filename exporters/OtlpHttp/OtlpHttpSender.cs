using OtelAi.Otlp.Protobuf;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.Exporter;
using OtelAi.Engine.Settings;
using OtelAi.Otlp.Grpc;
using OtelAi.Otlp;
using OtelAi.Otlp.Json;
using OtelAi.Exporters.Otlp;

namespace OtelAi.Exporters.OtlpHttp;

/// <summary>
/// One OTLP/HTTP POST per request. 2xx is success (partial_success read from the body); 429, 502, 503, 504 are
/// retryable with Retry-After (seconds or HTTP date) as the next wait; every other status is permanent. Error
/// bodies are read as google.rpc.Status for the message.
/// </summary>
internal sealed class OtlpHttpSender<T> : IExportSender<T>, IDisposable where T : class, IMessage<T>, new()
{
    private const int MaxErrorTextChars = 512;
    private static readonly MediaTypeHeaderValue ProtobufType = new("application/x-protobuf");
    private static readonly MediaTypeHeaderValue JsonType = new("application/json");

    private readonly HttpClient _client;
    private readonly Uri _uri;
    private readonly OtlpHttpEncoding _encoding;
    private readonly ContentCoding _compression;
    private readonly int _compressionLevel;
    private readonly KeyValuePair<string, string>[] _headers;
    private readonly OtlpSignal<T> _signal = OtlpSignal<T>.Instance;

    private readonly ClientCredentials _credentials;

    public OtlpHttpSender(OtlpHttpExporterConfig config)
    {
        _credentials = new ClientCredentials(config.Client.Auth);
        var signal = OtlpSignal<T>.Instance.Signal;
        var url = config.SignalUrl(signal);
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new ArgumentException($"no usable URL for {signal.ToConfigName()}: \"{url}\" (set endpoint or {signal.ToConfigName()}_endpoint)");
        _uri = uri;
        _encoding = config.Encoding;
        _compressionLevel = config.Client.CompressionParams.EffectiveLevel;
        _compression = config.Client.Compression switch { Compression.Gzip => ContentCoding.Gzip, Compression.Deflate => ContentCoding.Deflate, _ => ContentCoding.Identity };
        _headers = config.Client.Headers.ToArray();
        _client = OtlpHttpClient.Create(config.Client.Tls, uri.IdnHost, uri.Scheme == "https", keepalive: null, config.Client);
    }

    /// <summary>
    /// The request body in a pooled buffer: protobuf (encoded bytes as they are, compressed straight from them) or
    /// JSON (written, then compressed), per the configured compression.
    /// </summary>
    private PooledBufferWriter Body(Payload<T> request)
    {
        var body = new PooledBufferWriter(_encoding == OtlpHttpEncoding.Json ? 64 * 1024 : request.SizeHint);
        try
        {
            if (_encoding == OtlpHttpEncoding.Json)
            {
                if (_compression == ContentCoding.Identity) OtlpJson.Write(request.Message, body);
                else
                {
                    using var json = new PooledBufferWriter(64 * 1024);
                    OtlpJson.Write(request.Message, json);
                    MessageCompression.Compress(json.WrittenSpan, _compression, body, _compressionLevel);
                }
            }
            else if (_compression == ContentCoding.Identity) request.WriteTo(body);
            else request.CompressTo(_compression, _compressionLevel, body);
            return body;
        }
        catch
        {
            body.Dispose();
            throw;
        }
    }

    public Task StartAsync(OtelAi.Engine.Components.IComponentHost host, CancellationToken cancellationToken) => _credentials.StartAsync(host);

    public async ValueTask<SendResult> SendAsync(Payload<T> request, CancellationToken cancellationToken)
    {
        using var requestBody = Body(request);

        using var message = new HttpRequestMessage(HttpMethod.Post, _uri)
        {
            // HTTP/1.1 on plain text; TLS connections negotiate HTTP/2 when the server offers it.
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrHigher,
            Content = new ReadOnlyMemoryContent(requestBody.WrittenMemory),
        };
        message.Content.Headers.ContentType = _encoding == OtlpHttpEncoding.Json ? JsonType : ProtobufType;
        if (_compression != ContentCoding.Identity) message.Content.Headers.ContentEncoding.Add(_compression == ContentCoding.Gzip ? "gzip" : "deflate");
        message.Headers.UserAgent.Add(OtlpHttpClient.UserAgent);
        foreach (var (name, value) in _headers) message.Headers.TryAddWithoutValidation(name, value);
        _credentials.Apply(message.Headers);

        var (response, body) = await OtlpHttpClient.SendAsync(_client, message, OtlpHttpClient.Redacted(_uri), cancellationToken);

        using (response)
        {
            var status = (int)response.StatusCode;
            var isJson = response.Content.Headers.ContentType?.MediaType?.Equals("application/json", StringComparison.OrdinalIgnoreCase) == true;
            if (status is >= 200 and < 300) return ReadPartialSuccess(body, isJson);

            var text = $"{OtlpHttpClient.Redacted(_uri)}: HTTP {status} {response.ReasonPhrase}{ErrorMessage(body, isJson, response.Content.Headers.ContentType?.MediaType)}";
            if (!GrpcStatusMapping.IsRetryableHttpStatus(status)) throw new PermanentDataException(text);
            throw new RetryableDataException(text, OtlpHttpClient.RetryAfter(response.Headers.RetryAfter), resourceExhausted: status == 429);
        }
    }

    private SendResult ReadPartialSuccess(byte[] body, bool isJson)
    {
        if (body.Length == 0) return SendResult.Success;
        try
        {
            var (rejected, text) = isJson ? _signal.ParseJsonResponse(body) : _signal.ParseProtoResponse(body);
            return rejected > 0 || text.Length > 0 ? new SendResult(rejected, text) : SendResult.Success;
        }
        catch (Exception ex) when (ex is InvalidProtocolBufferException or OtlpJsonException)
        {
            return new SendResult(0, $"unreadable response body: {ex.Message}");
        }
    }

    /// <summary>": message" from a google.rpc.Status body, else the start of the body as text, else nothing.</summary>
    private static string ErrorMessage(byte[] body, bool isJson, string? mediaType)
    {
        if (body.Length == 0) return "";
        try
        {
            if (isJson)
            {
                using var document = JsonDocument.Parse(body);
                if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("message", out var jsonMessage))
                    return ": " + jsonMessage.GetString();
            }
            else if (mediaType?.Equals("application/x-protobuf", StringComparison.OrdinalIgnoreCase) == true)
            {
                var status = OtelAi.Otlp.Proto.Rpc.Status.Parser.ParseFrom(body);
                if (status.Message.Length > 0) return ": " + status.Message;
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidProtocolBufferException or InvalidOperationException)
        {
            // Not a Status after all: fall back to the raw text below.
        }
        var raw = Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, MaxErrorTextChars * 4));
        if (raw.Length > MaxErrorTextChars) raw = raw[..MaxErrorTextChars] + "…";
        return ": " + raw.Trim();
    }

    public void Dispose() => _client.Dispose();
}
