using System.Diagnostics;
using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using OtelAi.Engine.Settings;
using OtelAi.Otlp.Grpc;
using OtelAi.Otlp.Hosting;
using OtelAi.Otlp;
using OtelAi.Otlp.Json;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;

namespace OtelAi.Receivers.Otlp;

/// <summary>
/// OTLP/HTTP on Kestrel: POST of protobuf or JSON bodies (optionally gzip/deflate) to one path per signal,
/// answered in the request's encoding; errors carry a google.rpc.Status body.
/// </summary>
internal sealed class OtlpHttpServer
{
    private const string ProtobufType = "application/x-protobuf";
    private const string JsonType = "application/json";
    private const string SupportedTypes = "application/json, application/x-protobuf";
    private const string SupportedEncodings = "gzip, deflate, identity";

    private readonly HttpServerSettings _server;
    private readonly ExportHandler<ExportTraceServiceRequest>? _traces;
    private readonly ExportHandler<ExportMetricsServiceRequest>? _metrics;
    private readonly ExportHandler<ExportLogsServiceRequest>? _logs;
    private readonly ILogger _logger;
    private readonly CorsPolicy? _cors;
    private readonly long _maxBodySize;
    private readonly AuthGate? _auth;
    private readonly RequestDurations? _durations;
    private readonly UnfinishedBodyBudget _unfinished;
    private readonly string _tracesPath, _metricsPath, _logsPath;

    public OtlpHttpServer(
        OtlpHttpConfig config,
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
        _server = config.Server;
        _traces = traces;
        _metrics = metrics;
        _logs = logs;
        _cors = config.Server.Cors is { AllowedOrigins.Count: > 0 } cors ? new CorsPolicy(cors) : null;
        _maxBodySize = config.Server.EffectiveMaxRequestBodySize;
        _unfinished = UnfinishedBodyBudget.Create(config.Server.MaxUnfinishedRequestsMib, _maxBodySize);
        (_tracesPath, _metricsPath, _logsPath) = (OtlpHttpConfig.Rooted(config.TracesUrlPath), OtlpHttpConfig.Rooted(config.MetricsUrlPath), OtlpHttpConfig.Rooted(config.LogsUrlPath));
    }

    /// <summary>What unfinished request bodies hold on this listener (tests read it).</summary>
    internal UnfinishedBodyBudget Unfinished => _unfinished;

    public Task<ServerHost> StartAsync(CancellationToken cancellationToken) =>
        ServerHost.StartAsync(_server.Endpoint, HandleAsync, new ServerHostSetup
        {
            PlaintextProtocols = HttpProtocols.Http1AndHttp2,
            Tls = _server.Tls?.Load(),
            ConfigureLimits = options => options.Limits.MaxRequestBodySize = null, // checked here, to answer 413 with a status body
            MaxConnections = _server.EffectiveMaxConnections,
            Logger = _logger,
        }, cancellationToken);

    private enum BodyFormat { Protobuf, Json }

    /// <summary>Bytes a request body buffer starts with before any arrive.</summary>
    private const int InitialBodyBuffer = 64 * 1024;

    private Task HandleAsync(HttpContext context)
    {
        foreach (var (name, value) in _server.ResponseHeaders) context.Response.Headers[name] = value;
        var request = context.Request;
        var path = request.Path.Value ?? "";
        if (_cors is not null && request.Headers.Origin.Count > 0)
        {
            if (HttpMethods.IsOptions(request.Method) && request.Headers.AccessControlRequestMethod.Count > 0)
            {
                _cors.WritePreflight(context);
                return Task.CompletedTask;
            }
            _cors.AddActualRequestHeaders(context);
        }

        // The start is read before the export begins (arguments are evaluated left to right).
        if (path == _tracesPath && _traces is not null) return Timed(context, path, Stopwatch.GetTimestamp(), ExportAsync(context, _traces));
        if (path == _metricsPath && _metrics is not null) return Timed(context, path, Stopwatch.GetTimestamp(), ExportAsync(context, _metrics));
        if (path == _logsPath && _logs is not null) return Timed(context, path, Stopwatch.GetTimestamp(), ExportAsync(context, _logs));
        return WriteText(context, StatusCodes.Status404NotFound, "404 page not found");
    }

    private Task Timed(HttpContext context, string path, long start, Task export) =>
        _durations is null ? export : _durations.RecordWhenDone(context, path, start, export);

    private async Task ExportAsync<TRequest>(HttpContext context, ExportHandler<TRequest> handler)
        where TRequest : class, IMessage<TRequest>, new()
    {
        var request = context.Request;
        var format = ParseFormat(request.ContentType);
        if (!HttpMethods.IsPost(request.Method))
        {
            context.Response.Headers.Allow = "POST";
            await WriteError(context, format ?? BodyFormat.Protobuf, StatusCodes.Status405MethodNotAllowed,
                new GrpcStatus(GrpcStatusCode.Unimplemented, $"405 method not allowed, supported: [POST]"));
            return;
        }
        if (format is not { } bodyFormat)
        {
            await WriteText(context, StatusCodes.Status415UnsupportedMediaType,
                $"415 unsupported media type \"{request.ContentType}\", supported: [{SupportedTypes}]");
            return;
        }
        // Checked before the body is read: an unauthenticated client gets no buffer.
        if (_auth is not null && !_auth.Admits(context))
        {
            await WriteError(context, bodyFormat, StatusCodes.Status401Unauthorized, new GrpcStatus(GrpcStatusCode.Unauthenticated, AuthGate.Refusal));
            return;
        }
        var encodingName = request.Headers.ContentEncoding.ToString();
        if (!MessageCompression.TryParse(encodingName, out var coding))
        {
            await WriteError(context, bodyFormat, StatusCodes.Status415UnsupportedMediaType, new GrpcStatus(GrpcStatusCode.InvalidArgument,
                $"415 unsupported Content-Encoding \"{encodingName}\", supported: [{SupportedEncodings}]"));
            return;
        }
        if (request.ContentLength > _maxBodySize)
        {
            await WriteTooLarge(context, bodyFormat);
            return;
        }

        // The buffer grows as bytes arrive: a Content-Length is only a claim, and renting for it up front let headers
        // alone (a client that then dribbles or never sends the body) hold memory the limiter counts against everyone.
        using var body = new PooledBufferWriter((int)Math.Min(Math.Min(request.ContentLength ?? InitialBodyBuffer, InitialBodyBuffer), _maxBodySize) + 1);
        BodyRead read;
        try
        {
            read = await ReadBodyAsync(request.BodyReader, body, context.RequestAborted);
        }
        catch (StalledBodyException ex)
        {
            await WriteError(context, bodyFormat, StatusCodes.Status408RequestTimeout, new GrpcStatus(GrpcStatusCode.DeadlineExceeded, ex.Message));
            return;
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException ex)
        {
            // Kestrel's verdict on the body itself (truncated, sent too slowly): answer it, not a 500.
            var code = ex.StatusCode == StatusCodes.Status408RequestTimeout ? GrpcStatusCode.DeadlineExceeded : GrpcStatusCode.InvalidArgument;
            await WriteError(context, bodyFormat, ex.StatusCode, new GrpcStatus(code, $"cannot read the request body: {ex.Message}"));
            return;
        }
        if (read == BodyRead.TooLarge)
        {
            await WriteTooLarge(context, bodyFormat);
            return;
        }
        if (read == BodyRead.OverBudget)
        {
            context.Response.Headers.RetryAfter = "1";
            await WriteError(context, bodyFormat, StatusCodes.Status503ServiceUnavailable, new GrpcStatus(GrpcStatusCode.Unavailable, _unfinished.Refusal));
            return;
        }

        Payload<TRequest> message;
        try
        {
            if (coding == ContentCoding.Identity) message = Decode(handler, body.WrittenSpan, bodyFormat);
            else
            {
                using var plain = new PooledBufferWriter((int)Math.Min(body.WrittenCount * 4L, _maxBodySize) + 1);
                MessageCompression.Decompress(new ReadOnlySequence<byte>(body.WrittenMemory), coding, _maxBodySize, plain);
                message = Decode(handler, plain.WrittenSpan, bodyFormat);
            }
        }
        catch (DecompressedSizeExceededException)
        {
            await WriteTooLarge(context, bodyFormat);
            return;
        }
        catch (RequestExpansionException ex)
        {
            await WriteError(context, bodyFormat, StatusCodes.Status413PayloadTooLarge, new GrpcStatus(GrpcStatusCode.InvalidArgument, ex.Message));
            return;
        }
        catch (Exception ex) when (ex is InvalidDataException or OtlpJsonException || MalformedRequest.Is(ex))
        {
            var what = ex is InvalidDataException
                ? $"cannot decompress the {coding.ToString().ToLowerInvariant()} body: {ex.Message}"
                : $"request is not a valid {(bodyFormat == BodyFormat.Json ? "OTLP/JSON" : "protobuf")} {typeof(TRequest).Name}: {ex.Message}";
            await WriteError(context, bodyFormat, StatusCodes.Status400BadRequest, new GrpcStatus(GrpcStatusCode.InvalidArgument, what));
            return;
        }

        var outcome = await handler.ExportAsync(message, RequestClient.From(context, _server.IncludeMetadata), context.RequestAborted, default);
        if (outcome.Status.Code != GrpcStatusCode.OK)
        {
            var httpStatus = GrpcStatusMapping.ToHttpStatus(outcome.Status.Code);
            if (outcome.Status.RetryDelay is { } delay && httpStatus is 429 or 503)
                context.Response.Headers.RetryAfter = Math.Max(1, (long)Math.Ceiling(delay.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            await WriteError(context, bodyFormat, httpStatus, outcome.Status);
            return;
        }
        await WriteBody(context, bodyFormat, StatusCodes.Status200OK,
            ExportHandler<TRequest>.PartialSuccessResponse(outcome) ?? ExportHandler<TRequest>.Signal.CreateResponse(0, null));
    }

    private static BodyFormat? ParseFormat(string? contentType)
    {
        if (contentType is null) return null;
        var semicolon = contentType.IndexOf(';');
        var mediaType = (semicolon < 0 ? contentType : contentType[..semicolon]).Trim();
        if (mediaType.Equals(ProtobufType, StringComparison.OrdinalIgnoreCase)) return BodyFormat.Protobuf;
        if (mediaType.Equals(JsonType, StringComparison.OrdinalIgnoreCase)) return BodyFormat.Json;
        return null;
    }

    private enum BodyRead { Complete, TooLarge, OverBudget }

    /// <summary>
    /// Copies the body into pooled memory (one copy; Kestrel's buffers are returned as we go). While more is to
    /// come, what it holds counts against the listener's unfinished-body budget. A body that stops sending throws
    /// <see cref="StalledBodyException"/>.
    /// </summary>
    private async ValueTask<BodyRead> ReadBodyAsync(System.IO.Pipelines.PipeReader reader, PooledBufferWriter body, CancellationToken cancellationToken)
    {
        StallGuard? guard = null;
        long held = 0;
        try
        {
            while (true)
            {
                System.IO.Pipelines.ReadResult read;
                try
                {
                    read = await reader.ReadAsync(guard?.Token ?? cancellationToken);
                }
                catch (OperationCanceledException) when (guard?.Stalled == true)
                {
                    throw new StalledBodyException();
                }
                var buffer = read.Buffer;
                if (body.WrittenCount + buffer.Length > _maxBodySize)
                {
                    reader.AdvanceTo(buffer.End);
                    return BodyRead.TooLarge;
                }
                foreach (var segment in buffer) body.Write(segment.Span);
                reader.AdvanceTo(buffer.End);
                if (read.IsCompleted) return BodyRead.Complete;
                // More to come: what is held now waits on the client, and bytes must keep coming.
                if (!_unfinished.TryHold(body.WrittenCount - held)) return BodyRead.OverBudget;
                held = body.WrittenCount;
                if (guard is null) guard = new StallGuard(cancellationToken);
                else guard.Progress();
            }
        }
        finally
        {
            _unfinished.Release(held);
            guard?.Dispose();
        }
    }

    private static Payload<TRequest> Decode<TRequest>(ExportHandler<TRequest> handler, ReadOnlySpan<byte> bytes, BodyFormat format)
        where TRequest : class, IMessage<TRequest>, new() =>
        format == BodyFormat.Json ? OtlpJson.Parse<TRequest>(bytes) : handler.FromProtobuf(bytes);

    private Task WriteTooLarge(HttpContext context, BodyFormat format) =>
        WriteError(context, format, StatusCodes.Status413PayloadTooLarge,
            new GrpcStatus(GrpcStatusCode.InvalidArgument, $"request body larger than max_request_body_size ({_maxBodySize} bytes)"));

    private static Task WriteError(HttpContext context, BodyFormat format, int httpStatus, GrpcStatus status) =>
        WriteBody(context, format, httpStatus, status.ToProto());

    private static async Task WriteBody(HttpContext context, BodyFormat format, int httpStatus, IMessage body)
    {
        var response = context.Response;
        response.StatusCode = httpStatus;
        response.ContentType = format == BodyFormat.Json ? JsonType : ProtobufType;
        if (format == BodyFormat.Json)
        {
            using var writer = new Utf8JsonWriter(response.BodyWriter);
            OtlpJson.Write(body, writer);
        }
        else
        {
            var size = body.CalculateSize();
            response.ContentLength = size;
            if (size > 0)
            {
                var span = response.BodyWriter.GetSpan(size);
                body.WriteTo(span[..size]);
                response.BodyWriter.Advance(size);
            }
        }
        await response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    private static Task WriteText(HttpContext context, int httpStatus, string text)
    {
        context.Response.StatusCode = httpStatus;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(text, Encoding.UTF8, context.RequestAborted);
    }
}
