using OtelAi.Otlp;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using OtelAi.Otlp.Proto.Rpc;

namespace OtelAi.Otlp.Grpc;

/// <summary>
/// One call's outcome: code, human message and the optional retry delay carried as google.rpc.RetryInfo in
/// <c>grpc-status-details-bin</c>. Converts to and from the pipeline's data exceptions so the receiver and the
/// exporter agree on what is retryable.
/// </summary>
internal readonly record struct GrpcStatus(GrpcStatusCode Code, string Message = "", TimeSpan? RetryDelay = null)
{
    public const string RetryInfoTypeUrl = "type.googleapis.com/google.rpc.RetryInfo";

    public static GrpcStatus Ok => new(GrpcStatusCode.OK);

    public bool IsRetryable => GrpcStatusMapping.IsRetryable(Code, RetryDelay.HasValue);

    /// <summary>
    /// The status a receiver answers for a consumer's failure: RetryableDataException → RESOURCE_EXHAUSTED or
    /// UNAVAILABLE (with RetryInfo when it names a delay), PermanentDataException → INVALID_ARGUMENT,
    /// cancellation → CANCELLED (or DEADLINE_EXCEEDED when <paramref name="deadlinePassed"/>), anything else → UNKNOWN.
    /// </summary>
    public static GrpcStatus FromException(Exception error, bool deadlinePassed = false) => error switch
    {
        RetryableDataException r => new(r.ResourceExhausted ? GrpcStatusCode.ResourceExhausted : GrpcStatusCode.Unavailable, r.Message, r.RetryAfter),
        PermanentDataException p => new(GrpcStatusCode.InvalidArgument, p.Message),
        OperationCanceledException when deadlinePassed => new(GrpcStatusCode.DeadlineExceeded, "deadline exceeded"),
        OperationCanceledException => new(GrpcStatusCode.Cancelled, "request cancelled"),
        _ => new(GrpcStatusCode.Unknown, error.Message),
    };

    /// <summary>
    /// The pipeline exception for a failed call received from a server (an exporter's view): retryable codes →
    /// <see cref="RetryableDataException"/> (ResourceExhausted set for RESOURCE_EXHAUSTED), the rest → <see cref="PermanentDataException"/>.
    /// </summary>
    public Exception ToDataException(string context)
    {
        if (Code == GrpcStatusCode.OK) throw new InvalidOperationException("OK is not a failure");
        var text = $"{context}: {Code} ({(int)Code}){(Message.Length > 0 ? ": " + Message : "")}";
        return IsRetryable
            ? new RetryableDataException(text, RetryDelay, Code == GrpcStatusCode.ResourceExhausted)
            : new PermanentDataException(text);
    }

    /// <summary>google.rpc.Status for this status (RetryInfo packed in details when a delay is set); also the OTLP/HTTP error body.</summary>
    public Proto.Rpc.Status ToProto()
    {
        var status = new Proto.Rpc.Status { Code = (int)Code, Message = Message };
        if (RetryDelay is { } delay)
            status.Details.Add(Any.Pack(new RetryInfo { RetryDelay = Duration.FromTimeSpan(delay) }));
        return status;
    }

    /// <summary>Reads code, message and RetryInfo from a google.rpc.Status; other detail types are ignored.</summary>
    public static GrpcStatus FromProto(Proto.Rpc.Status status)
    {
        TimeSpan? delay = null;
        foreach (var detail in status.Details)
        {
            if (detail.TypeUrl != RetryInfoTypeUrl) continue;
            var info = RetryInfo.Parser.ParseFrom(detail.Value);
            if (info.RetryDelay is { } d) delay = d.ToTimeSpan();
        }
        return new GrpcStatus((GrpcStatusCode)status.Code, status.Message, delay);
    }

    /// <summary>The <c>grpc-status-details-bin</c> value (unpadded base64 of google.rpc.Status), or null when there is nothing beyond code and message.</summary>
    public string? EncodeDetails() =>
        RetryDelay is null ? null : Convert.ToBase64String(ToProto().ToByteArray()).TrimEnd('=');

    /// <summary>
    /// Status from trailers. <paramref name="detailsBin"/> wins for the retry delay when present and well-formed;
    /// a malformed details header is ignored (the code and message still stand).
    /// </summary>
    public static GrpcStatus FromTrailers(GrpcStatusCode code, string? encodedMessage, string? detailsBin)
    {
        var message = encodedMessage is null ? "" : GrpcMessageEncoding.Decode(encodedMessage);
        TimeSpan? delay = null;
        if (!string.IsNullOrEmpty(detailsBin) && TryDecodeBase64(detailsBin, out var bytes))
        {
            try { delay = FromProto(Proto.Rpc.Status.Parser.ParseFrom(bytes)).RetryDelay; }
            catch (Exception ex) when (MalformedRequest.Is(ex)) { }
        }
        return new GrpcStatus(code, message, delay);
    }

    // gRPC -bin headers are base64, usually without padding; accept both.
    private static bool TryDecodeBase64(string value, out byte[] bytes)
    {
        var padded = (value.Length % 4) switch { 2 => value + "==", 3 => value + "=", _ => value };
        bytes = new byte[padded.Length / 4 * 3];
        if (Convert.TryFromBase64String(padded, bytes, out var written))
        {
            bytes = bytes[..written];
            return true;
        }
        return false;
    }

    public override string ToString() => Message.Length > 0 ? $"{Code}: {Message}" : Code.ToString();
}
