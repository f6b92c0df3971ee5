using System.Diagnostics;
using OtelAi.Otlp;
using System.Buffers;
using Google.Protobuf;
using OtelAi.Engine.Settings;
using OtelAi.Otlp.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using OtelAi.Otlp.Grpc;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;

namespace OtelAi.Receivers.Otlp;

/// <summary>
/// The OTLP/gRPC services on Kestrel, speaking the gRPC wire protocol directly: one unary Export method per signal
/// with a consumer. Plaintext listeners are HTTP/2 only (prior knowledge, as gRPC clients connect); TLS listeners
/// negotiate h2 by ALPN.
/// </summary>
internal sealed class OtlpGrpcServer
{
    private const string AcceptEncoding = "gzip,identity";
    private readonly GrpcServerSettings _config;
    private readonly ExportHandler<ExportTraceServiceRequest>? _traces;
    private readonly ExportHandler<ExportMetricsServiceRequest>? _metrics;
    private readonly ExportHandler<ExportLogsServiceRequest>? _logs;
    private readonly ILogger _logger;
    private readonly int _maxMessageSize;
    private readonly AuthGate? _auth;
    private readonly RequestDurations? _durations;
    private readonly UnfinishedBodyBudget _unfinished;

    public OtlpGrpcServer(
        GrpcServerSettings config,
        ExportHandler<ExportTraceServiceRequest>? traces,
        ExportHandler<ExportMetricsServiceRequest>? metrics,
        ExportHandler<ExportLogsServiceRequest>? logs,
        ILogger logger,
        AuthGate? auth = null,
        RequestDurations? durations = null)
    {
        _auth = auth;
        _durations = durations;
        _logger = logger;
        _config = config;
        _traces = traces;
        _metrics = metrics;
        _logs = logs;
        _maxMessageSize = (int)config.MaxRecvMsgSizeBytes;
        _unfinished = UnfinishedBodyBudget.Create(config.MaxUnfinishedRequestsMib, _maxMessageSize);
    }

    /// <summary>What unfinished request messages hold on this listener (tests read it).</summary>
    internal UnfinishedBodyBudget Unfinished => _unfinished;

    public Task<ServerHost> StartAsync(CancellationToken cancellationToken) =>
        ServerHost.StartAsync(_config.Endpoint, HandleAsync, new ServerHostSetup
        {
            PlaintextProtocols = HttpProtocols.Http2,
            Tls = _config.Tls?.Load(),
            ConfigureLimits = ConfigureLimits,
            MaxConnections = _config.EffectiveMaxConnections,
            Logger = _logger,
        }, cancellationToken);

    private void ConfigureLimits(KestrelServerOptions options)
    {
        // The message size limit is enforced per gRPC message (after decompression), not per body.
        options.Limits.MaxRequestBodySize = null;
        var http2 = options.Limits.Http2;
        if (_config.MaxConcurrentStreams > 0) http2.MaxStreamsPerConnection = _config.MaxConcurrentStreams;
        // A whole message is buffered before decoding; the stream window must let the client send that much
        // without the reader consuming it, or a large message would stall on flow control.
        var window = Math.Max(http2.InitialStreamWindowSize, _maxMessageSize + GrpcFraming.PrefixLength);
        http2.InitialStreamWindowSize = window;
        http2.InitialConnectionWindowSize = Math.Max(http2.InitialConnectionWindowSize, window);
        if (_config.Keepalive?.ServerParameters is { } keepalive)
        {
            if (keepalive.Time > TimeSpan.Zero) http2.KeepAlivePingDelay = keepalive.Time;
            if (keepalive.Timeout > TimeSpan.Zero) http2.KeepAlivePingTimeout = keepalive.Timeout;
            if (keepalive.MaxConnectionIdle > TimeSpan.Zero) options.Limits.KeepAliveTimeout = keepalive.MaxConnectionIdle;
        }
    }

    private Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        // As grpc-go answers requests that are not gRPC: an HTTP error status plus a gRPC status for gRPC-aware clients.
        if (!HttpMethods.IsPost(request.Method))
            return WriteTrailersOnly(context, new GrpcStatus(GrpcStatusCode.Internal, $"invalid gRPC request method \"{request.Method}\""), StatusCodes.Status405MethodNotAllowed);
        if (!IsGrpcContentType(request.ContentType))
            return WriteTrailersOnly(context, new GrpcStatus(GrpcStatusCode.Internal, $"invalid gRPC request content-type \"{request.ContentType}\""), StatusCodes.Status415UnsupportedMediaType);

        if (_auth is not null && !_auth.Admits(context))
            return WriteTrailersOnly(context, new GrpcStatus(GrpcStatusCode.Unauthenticated, AuthGate.Refusal));

        var path = request.Path.Value ?? "";
        // The start is read before the export begins (arguments are evaluated left to right).
        if (path == OtlpSignal<ExportTraceServiceRequest>.Instance.GrpcMethodPath && _traces is not null) return Timed(context, path, Stopwatch.GetTimestamp(), ExportAsync(context, _traces));
        if (path == OtlpSignal<ExportMetricsServiceRequest>.Instance.GrpcMethodPath && _metrics is not null) return Timed(context, path, Stopwatch.GetTimestamp(), ExportAsync(context, _metrics));
        if (path == OtlpSignal<ExportLogsServiceRequest>.Instance.GrpcMethodPath && _logs is not null) return Timed(context, path, Stopwatch.GetTimestamp(), ExportAsync(context, _logs));
        return WriteTrailersOnly(context, new GrpcStatus(GrpcStatusCode.Unimplemented, UnknownMethodMessage(path)));
    }

    private Task Timed(HttpContext context, string path, long start, Task export) =>
        _durations is null ? export : _durations.RecordWhenDone(context, path, start, export);

    /// <summary>The gRPC status code answered (trailers-only or in the trailers), as text.</summary>
    internal static string StatusOf(HttpContext context)
    {
        if (context.Response.Headers.TryGetValue("grpc-status", out var status)) return status.ToString();
        var trailers = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpResponseTrailersFeature>()?.Trailers;
        return trailers is not null && trailers.TryGetValue("grpc-status", out status) ? status.ToString() : "2";
    }

    private static string UnknownMethodMessage(string path)
    {
        var slash = path.LastIndexOf('/');
        return slash > 0
            ? $"unknown method {path[(slash + 1)..]} for service {path[1..slash]}"
            : $"malformed method name \"{path}\"";
    }

    /// <summary>application/grpc or application/grpc+proto (parameters allowed): other subtypes (+json) are not protobuf.</summary>
    private static bool IsGrpcContentType(string? contentType)
    {
        if (contentType is null || !contentType.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase)) return false;
        var rest = contentType.AsSpan(16);
        var semicolon = rest.IndexOf(';');
        var subtype = (semicolon < 0 ? rest : rest[..semicolon]).Trim();
        return subtype.IsEmpty || subtype.Equals("+proto", StringComparison.OrdinalIgnoreCase);
    }

    private async Task ExportAsync<TRequest>(HttpContext context, ExportHandler<TRequest> handler)
        where TRequest : class, IMessage<TRequest>, new()
    {
        var encodingName = context.Request.Headers["grpc-encoding"].ToString();
        if (!MessageCompression.TryParse(encodingName, out var coding) || coding == ContentCoding.Deflate)
        {
            await WriteTrailersOnly(context, new GrpcStatus(GrpcStatusCode.Unimplemented,
                $"grpc-encoding \"{encodingName}\" is not supported; supported: {AcceptEncoding}"));
            return;
        }

        CancellationTokenSource? deadline = null, linked = null;
        var cancellation = context.RequestAborted;
        var timeoutHeader = context.Request.Headers["grpc-timeout"];
        TimeSpan timeout = default;
        if (timeoutHeader.Count > 0 && !GrpcTimeout.TryParse(timeoutHeader.ToString(), out timeout))
        {
            await WriteTrailersOnly(context, new GrpcStatus(GrpcStatusCode.Internal, $"malformed grpc-timeout \"{timeoutHeader}\""));
            return;
        }
        // A deadline beyond what a timer holds (about 49.7 days: 99999999H is valid) can never pass during a request: none.
        if (timeoutHeader.Count > 0 && timeout <= GrpcTimeout.LongestTimer)
        {
            deadline = new CancellationTokenSource(timeout);
            linked = CancellationTokenSource.CreateLinkedTokenSource(cancellation, deadline.Token);
            cancellation = linked.Token;
        }
        try
        {
            var (request, failure) = await ReadRequestAsync(handler, context.Request.BodyReader, coding, cancellation);
            if (request is null)
            {
                await WriteTrailersOnly(context, failure);
                return;
            }
            var outcome = await handler.ExportAsync(request, RequestClient.From(context, _config.IncludeMetadata), cancellation, deadline?.Token ?? default);
            if (outcome.Status.Code != GrpcStatusCode.OK)
            {
                await WriteTrailersOnly(context, outcome.Status);
                return;
            }
            await WriteResponse(context, ExportHandler<TRequest>.PartialSuccessResponse(outcome));
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; there is nobody to answer.
        }
        catch (IOException)
        {
            // Reading the body or writing the answer broke: the client reset the stream or dropped the connection
            // mid-request (the pipeline's own failures come back as refusals, not exceptions). Nothing to answer, and
            // no engine error.
        }
        catch (OperationCanceledException) when (deadline?.IsCancellationRequested == true)
        {
            await WriteTrailersOnly(context, new GrpcStatus(GrpcStatusCode.DeadlineExceeded, "deadline exceeded while reading the request"));
        }
        finally
        {
            linked?.Dispose();
            deadline?.Dispose();
        }
    }

    /// <summary>Reads and decodes the single request message; on failure returns null and the status to answer.</summary>
    private async ValueTask<(Payload<TRequest>? Request, GrpcStatus Failure)> ReadRequestAsync<TRequest>(
        ExportHandler<TRequest> handler, System.IO.Pipelines.PipeReader body, ContentCoding coding, CancellationToken cancellationToken)
        where TRequest : class, IMessage<TRequest>, new()
    {
        var read = await GrpcFraming.ReadFrameAsync(body, _maxMessageSize, cancellationToken, endStalls: true, _unfinished);
        switch (read.Status)
        {
            case GrpcReadStatus.TooLarge:
                return (null, new GrpcStatus(GrpcStatusCode.ResourceExhausted,
                    $"received message larger than max ({read.DeclaredLength} vs. {_maxMessageSize})"));
            case GrpcReadStatus.EndOfStream:
                return (null, new GrpcStatus(GrpcStatusCode.Internal, "request has no message"));
            case GrpcReadStatus.Truncated:
                return (null, new GrpcStatus(GrpcStatusCode.Internal, "request ended inside a message"));
            case GrpcReadStatus.Stalled:
                return (null, new GrpcStatus(GrpcStatusCode.DeadlineExceeded, new StalledBodyException().Message));
            case GrpcReadStatus.OverBudget:
                return (null, new GrpcStatus(GrpcStatusCode.Unavailable, _unfinished.Refusal, TimeSpan.FromSeconds(1)));
        }

        var frame = read.Frame;
        // A unary call carries one message: bytes already here past it mean a second one (or garbage), refused.
        // (Only what has arrived is looked at: waiting for the end of the stream would hold a slow client's answer.)
        if (read.Buffered > frame.Payload.Length + GrpcFraming.PrefixLength)
        {
            body.AdvanceTo(frame.Payload.End);
            return (null, new GrpcStatus(GrpcStatusCode.Internal, "a unary call carries one request message; this one had more"));
        }
        try
        {
            if (!frame.Compressed) return (handler.FromProtobuf(frame.Payload), default);
            if (coding == ContentCoding.Identity)
                return (null, new GrpcStatus(GrpcStatusCode.Internal, "message is flagged compressed but grpc-encoding is identity"));
            using var plain = new PooledBufferWriter((int)Math.Min(frame.Payload.Length * 4, _maxMessageSize));
            MessageCompression.Decompress(frame.Payload, coding, _maxMessageSize, plain);
            return (handler.FromProtobuf(plain.WrittenSpan), default);
        }
        catch (Exception ex) when (MalformedRequest.Is(ex))
        {
            return (null, new GrpcStatus(GrpcStatusCode.InvalidArgument, $"request is not a valid {typeof(TRequest).Name}: {ex.Message}"));
        }
        catch (InvalidDataException ex)
        {
            return (null, new GrpcStatus(GrpcStatusCode.InvalidArgument, $"cannot decompress the {coding.ToString().ToLowerInvariant()} message: {ex.Message}"));
        }
        catch (DecompressedSizeExceededException)
        {
            return (null, new GrpcStatus(GrpcStatusCode.ResourceExhausted, $"decompressed message larger than max ({_maxMessageSize})"));
        }
        catch (RequestExpansionException ex)
        {
            return (null, new GrpcStatus(GrpcStatusCode.ResourceExhausted, ex.Message));
        }
        finally
        {
            body.AdvanceTo(frame.Payload.End);
        }
    }

    private static Task WriteResponse(HttpContext context, IMessage? response)
    {
        var http = context.Response;
        http.StatusCode = StatusCodes.Status200OK;
        http.ContentType = "application/grpc";
        http.Headers["grpc-accept-encoding"] = AcceptEncoding;
        if (response is null) GrpcFraming.WriteFrame(http.BodyWriter, [], compressed: false);
        else GrpcFraming.WriteMessage(http.BodyWriter, response);
        http.AppendTrailer("grpc-status", "0");
        return Task.CompletedTask;
    }

    /// <summary>An error without a body: the status goes in the response headers, which end the stream.</summary>
    private static Task WriteTrailersOnly(HttpContext context, GrpcStatus status, int httpStatus = StatusCodes.Status200OK)
    {
        var http = context.Response;
        if (http.HasStarted) return Task.CompletedTask;
        http.StatusCode = httpStatus;
        http.ContentType = "application/grpc";
        var headers = http.Headers;
        headers["grpc-accept-encoding"] = AcceptEncoding;
        headers["grpc-status"] = ((int)status.Code).ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (status.Message.Length > 0) headers["grpc-message"] = GrpcMessageEncoding.Encode(status.Message);
        if (status.EncodeDetails() is { } details) headers["grpc-status-details-bin"] = details;
        return Task.CompletedTask;
    }
}
