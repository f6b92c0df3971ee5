using Google.Protobuf;
using Google.Protobuf.Reflection;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;

namespace OtelAi.Otlp;

/// <summary>
/// What one signal is on the wire, in one place: the gRPC method and OTLP/HTTP path, and (in
/// <see cref="OtlpSignal{T}"/>) the request parser, item counting, splitting, id validation and the response with
/// its partial success. Receivers, exporters and pipeline code all ask this descriptor.
/// </summary>
public abstract class OtlpSignal
{
    private protected OtlpSignal(Signal signal, FileDescriptor serviceFile, string httpPath)
    {
        Signal = signal;
        // The one Export method of the signal's collector service, as the proto declares it.
        var service = serviceFile.Services.Single();
        GrpcMethodPath = $"/{service.FullName}/{service.Methods.Single().Name}";
        HttpPath = httpPath;
    }

    public Signal Signal { get; }

    /// <summary><c>/opentelemetry.proto.collector.trace.v1.TraceService/Export</c> and its siblings.</summary>
    public string GrpcMethodPath { get; }

    /// <summary><c>v1/traces</c> and its siblings, relative to an OTLP/HTTP base endpoint.</summary>
    public string HttpPath { get; }

    /// <summary>The descriptor of a signal known by its enum value only.</summary>
    public static OtlpSignal For(Signal signal) => signal switch
    {
        Signal.Traces => OtlpSignal<ExportTraceServiceRequest>.Instance,
        Signal.Metrics => OtlpSignal<ExportMetricsServiceRequest>.Instance,
        Signal.Logs => OtlpSignal<ExportLogsServiceRequest>.Instance,
        _ => throw new ArgumentOutOfRangeException(nameof(signal)),
    };

    /// <summary>Rejected item count and message of an Export*ServiceResponse in protobuf (0 and "" when unset).</summary>
    public abstract ExportPartialSuccess ParseProtoResponse(ReadOnlySpan<byte> response);

    /// <summary>The same for an OTLP/JSON response body.</summary>
    public abstract ExportPartialSuccess ParseJsonResponse(ReadOnlySpan<byte> response);

    /// <summary>True when <paramref name="id"/> has <paramref name="length"/> bytes and is not all zero.</summary>
    private protected static bool IsValidId(ByteString id, int length) =>
        id.Length == length && id.Span.IndexOfAnyExcept((byte)0) >= 0;

    /// <summary>An optional id is either absent (empty) or of the right length.</summary>
    private protected static bool IsValidOptionalId(ByteString id, int length) => id.Length == 0 || id.Length == length;
}

/// <summary>The partial_success of an export response: items the destination refused for good, and why.</summary>
public readonly record struct ExportPartialSuccess(long RejectedItems, string Message);

/// <summary>
/// The descriptor for the request type a pipeline of one signal carries (pipelines carry the OTLP export requests
/// themselves, so what a receiver decoded goes on without conversion).
/// </summary>
public abstract partial class OtlpSignal<T> : OtlpSignal where T : class, IMessage<T>, new()
{
    private protected OtlpSignal(Signal signal, FileDescriptor serviceFile, string httpPath) : base(signal, serviceFile, httpPath)
    {
    }

    public static OtlpSignal<T> Instance { get; } = (OtlpSignal<T>)(object)(typeof(T) switch
    {
        var t when t == typeof(ExportTraceServiceRequest) => new TracesSignal(),
        var t when t == typeof(ExportMetricsServiceRequest) => new MetricsSignal(),
        var t when t == typeof(ExportLogsServiceRequest) => new LogsSignal(),
        _ => throw new NotSupportedException($"{typeof(T)} is not an OTLP export request"),
    });

    /// <summary>
    /// Parses a payload entering the pipeline. Unknown fields are discarded, as otelcol's pdata does: pipeline data
    /// never carries them, and OtlpProtobuf (which writes only the fields our protos declare) stays byte-exact.
    /// </summary>
    public abstract MessageParser<T> Parser { get; }

    /// <summary>Spans, metric data points or log records in the payload.</summary>
    public abstract int CountItems(T data);

    /// <summary>Number of resource-level entries (ResourceSpans, ResourceMetrics, ResourceLogs).</summary>
    public abstract int ResourceCount(T data);

    /// <summary>Moves every resource entry of <paramref name="source"/> to the end of <paramref name="destination"/>.</summary>
    public abstract void MoveAllTo(T source, T destination);

    /// <summary>
    /// Removes up to <paramref name="maxItems"/> items from the front of <paramref name="data"/> and returns them as a
    /// new payload, splitting resource and scope entries where needed (resource and scope are copied to both halves).
    /// </summary>
    public abstract T SplitOff(T data, int maxItems);

    /// <summary>
    /// Removes items no backend may accept (a span whose trace id is not 16 bytes, say) and returns how many;
    /// <paramref name="problem"/> describes the first one. The valid rest of the request goes on (OTLP partial success).
    /// </summary>
    public virtual int RemoveInvalid(T request, out string? problem)
    {
        problem = null;
        return 0;
    }

    /// <summary>The Export*ServiceResponse a receiver answers, with partial_success when anything was rejected.</summary>
    public abstract IMessage CreateResponse(int rejected, string? errorMessage);
}
