namespace OtelAi.Otlp.Grpc;

/// <summary>The 17 gRPC status codes (grpc/doc/statuscodes.md), sent as the decimal <c>grpc-status</c> trailer.</summary>
internal enum GrpcStatusCode
{
    OK = 0,
    Cancelled = 1,
    Unknown = 2,
    InvalidArgument = 3,
    DeadlineExceeded = 4,
    NotFound = 5,
    AlreadyExists = 6,
    PermissionDenied = 7,
    ResourceExhausted = 8,
    FailedPrecondition = 9,
    Aborted = 10,
    OutOfRange = 11,
    Unimplemented = 12,
    Internal = 13,
    Unavailable = 14,
    DataLoss = 15,
    Unauthenticated = 16,
}

/// <summary>How OTLP treats gRPC status codes: the HTTP status an OTLP/HTTP receiver answers, and what a client may retry.</summary>
internal static class GrpcStatusMapping
{
    /// <summary>The HTTP status code OTLP/HTTP uses for the same outcome (otelcol's status → HTTP mapping).</summary>
    public static int ToHttpStatus(GrpcStatusCode code) => code switch
    {
        GrpcStatusCode.OK => 200,
        GrpcStatusCode.Unavailable or GrpcStatusCode.Cancelled or GrpcStatusCode.DeadlineExceeded
            or GrpcStatusCode.Aborted or GrpcStatusCode.OutOfRange or GrpcStatusCode.DataLoss => 503,
        GrpcStatusCode.ResourceExhausted => 429,
        GrpcStatusCode.InvalidArgument => 400,
        GrpcStatusCode.Unauthenticated => 401,
        GrpcStatusCode.PermissionDenied => 403,
        GrpcStatusCode.Unimplemented => 404,
        _ => 500,
    };

    /// <summary>
    /// OTLP/gRPC retry rule: CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE and DATA_LOSS are
    /// retryable; RESOURCE_EXHAUSTED only when the server sent RetryInfo (it signals it can recover); the rest are permanent.
    /// </summary>
    public static bool IsRetryable(GrpcStatusCode code, bool hasRetryInfo) => code switch
    {
        GrpcStatusCode.Cancelled or GrpcStatusCode.DeadlineExceeded or GrpcStatusCode.Aborted
            or GrpcStatusCode.OutOfRange or GrpcStatusCode.Unavailable or GrpcStatusCode.DataLoss => true,
        GrpcStatusCode.ResourceExhausted => hasRetryInfo,
        _ => false,
    };

    /// <summary>OTLP/HTTP retry rule: only 429, 502, 503 and 504 are retryable.</summary>
    public static bool IsRetryableHttpStatus(int httpStatus) => httpStatus is 429 or 502 or 503 or 504;
}
