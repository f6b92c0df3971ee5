using Google.Protobuf;
using Google.Protobuf.Collections;
using OtelAi.Engine.Telemetry;
using OtelAi.Proto.Collector.Logs.V1;
using OtelAi.Proto.Collector.Metrics.V1;
using OtelAi.Proto.Collector.Trace.V1;

namespace OtelAi.Receivers.Otlp;

/// <summary>
/// What the receiver needs per signal beyond <see cref="SignalData{T}"/>: the gRPC method path, the OTLP
/// response with partial success, and the removal of items the OTLP spec declares invalid.
/// </summary>
internal abstract class OtlpSignal<TRequest> where TRequest : class, IMessage<TRequest>, new()
{
    public abstract string GrpcMethodPath { get; }

    /// <summary>
    /// Removes items no backend may accept (e.g. a span whose trace id is not 16 bytes) and returns how many;
    /// <paramref name="problem"/> describes the first one. The valid rest of the request goes on (OTLP partial success).
    /// </summary>
    public virtual int RemoveInvalid(TRequest request, out string? problem)
    {
        problem = null;
        return 0;
    }

    public abstract IMessage CreateResponse(int rejected, string? errorMessage);

    public static OtlpSignal<TRequest> Instance { get; } = (OtlpSignal<TRequest>)(object)(typeof(TRequest) switch
    {
        var t when t == typeof(ExportTraceServiceRequest) => new TracesSignal(),
        var t when t == typeof(ExportMetricsServiceRequest) => new MetricsSignal(),
        var t when t == typeof(ExportLogsServiceRequest) => new LogsSignal(),
        _ => throw new NotSupportedException(typeof(TRequest).Name),
    });

    /// <summary>True when <paramref name="id"/> has <paramref name="length"/> bytes and is not all zero.</summary>
    protected static bool IsValidId(ByteString id, int length) =>
        id.Length == length && id.Span.IndexOfAnyExcept((byte)0) >= 0;

    /// <summary>An optional id is either absent (empty) or valid.</summary>
    protected static bool IsValidOptionalId(ByteString id, int length) => id.Length == 0 || id.Length == length;

    /// <summary>
    /// Slow path shared by the signals: removes invalid items, then scopes and resources left empty.
    /// Only runs once a first invalid item was seen, so valid requests pay one scan and no allocation.
    /// </summary>
    protected static int RemoveWhere<TResource, TScope, TItem>(
        RepeatedField<TResource> resources,
        Func<TResource, RepeatedField<TScope>> scopesOf,
        Func<TScope, RepeatedField<TItem>> itemsOf,
        Func<TItem, string?> problemOf,
        out string? firstProblem)
    {
        firstProblem = null;
        var removed = 0;
        for (var r = resources.Count - 1; r >= 0; r--)
        {
            var scopes = scopesOf(resources[r]);
            var scopesBefore = scopes.Count;
            for (var s = scopes.Count - 1; s >= 0; s--)
            {
                var items = itemsOf(scopes[s]);
                var itemsBefore = items.Count;
                for (var i = items.Count - 1; i >= 0; i--)
                {
                    if (problemOf(items[i]) is not { } problem) continue;
                    firstProblem = problem; // walking backwards: ends as the first in request order
                    items.RemoveAt(i);
                    removed++;
                }
                if (items.Count == 0 && itemsBefore > 0) scopes.RemoveAt(s);
            }
            if (scopes.Count == 0 && scopesBefore > 0) resources.RemoveAt(r);
        }
        return removed;
    }

    private sealed class TracesSignal : OtlpSignal<ExportTraceServiceRequest>
    {
        public override string GrpcMethodPath => "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

        public override int RemoveInvalid(ExportTraceServiceRequest request, out string? problem)
        {
            problem = null;
            foreach (var rs in request.ResourceSpans)
                foreach (var ss in rs.ScopeSpans)
                    foreach (var span in ss.Spans)
                        if (Problem(span) is not null)
                            return RemoveWhere(request.ResourceSpans, r => r.ScopeSpans, s => s.Spans, Problem, out problem);
            return 0;
        }

        private static string? Problem(Proto.Trace.V1.Span span)
        {
            if (!IsValidId(span.TraceId, 16)) return $"span \"{span.Name}\": trace_id must be 16 bytes, not all zero (got {span.TraceId.Length} bytes)";
            if (!IsValidId(span.SpanId, 8)) return $"span \"{span.Name}\": span_id must be 8 bytes, not all zero (got {span.SpanId.Length} bytes)";
            if (!IsValidOptionalId(span.ParentSpanId, 8)) return $"span \"{span.Name}\": parent_span_id must be empty or 8 bytes (got {span.ParentSpanId.Length})";
            return null;
        }

        public override IMessage CreateResponse(int rejected, string? errorMessage) => new ExportTraceServiceResponse
        {
            PartialSuccess = rejected == 0 && errorMessage is null ? null
                : new ExportTracePartialSuccess { RejectedSpans = rejected, ErrorMessage = errorMessage ?? "" },
        };
    }

    private sealed class MetricsSignal : OtlpSignal<ExportMetricsServiceRequest>
    {
        public override string GrpcMethodPath => "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";

        public override IMessage CreateResponse(int rejected, string? errorMessage) => new ExportMetricsServiceResponse
        {
            PartialSuccess = rejected == 0 && errorMessage is null ? null
                : new ExportMetricsPartialSuccess { RejectedDataPoints = rejected, ErrorMessage = errorMessage ?? "" },
        };
    }

    private sealed class LogsSignal : OtlpSignal<ExportLogsServiceRequest>
    {
        public override string GrpcMethodPath => "/opentelemetry.proto.collector.logs.v1.LogsService/Export";

        public override int RemoveInvalid(ExportLogsServiceRequest request, out string? problem)
        {
            problem = null;
            foreach (var rl in request.ResourceLogs)
                foreach (var sl in rl.ScopeLogs)
                    foreach (var record in sl.LogRecords)
                        if (Problem(record) is not null)
                            return RemoveWhere(request.ResourceLogs, r => r.ScopeLogs, s => s.LogRecords, Problem, out problem);
            return 0;
        }

        private static string? Problem(Proto.Logs.V1.LogRecord record)
        {
            if (!IsValidOptionalId(record.TraceId, 16)) return $"log record: trace_id must be empty or 16 bytes (got {record.TraceId.Length})";
            if (!IsValidOptionalId(record.SpanId, 8)) return $"log record: span_id must be empty or 8 bytes (got {record.SpanId.Length})";
            return null;
        }

        public override IMessage CreateResponse(int rejected, string? errorMessage) => new ExportLogsServiceResponse
        {
            PartialSuccess = rejected == 0 && errorMessage is null ? null
                : new ExportLogsPartialSuccess { RejectedLogRecords = rejected, ErrorMessage = errorMessage ?? "" },
        };
    }
}
