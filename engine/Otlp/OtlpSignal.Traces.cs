using Google.Protobuf;
using OtelAi.Otlp.Json;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Otlp.Proto.Trace.V1;

namespace OtelAi.Otlp;

public abstract partial class OtlpSignal<T>
{
    private sealed class TracesSignal() : OtlpSignal<ExportTraceServiceRequest>(Signal.Traces, TraceServiceReflection.Descriptor, "v1/traces")
    {
        public override MessageParser<ExportTraceServiceRequest> Parser { get; } = ExportTraceServiceRequest.Parser.WithDiscardUnknownFields(true);

        public override int ResourceCount(ExportTraceServiceRequest data) => data.ResourceSpans.Count;

        public override int CountItems(ExportTraceServiceRequest data)
        {
            var n = 0;
            foreach (var rs in data.ResourceSpans)
                foreach (var ss in rs.ScopeSpans)
                    n += ss.Spans.Count;
            return n;
        }

        public override void MoveAllTo(ExportTraceServiceRequest source, ExportTraceServiceRequest destination)
        {
            destination.ResourceSpans.Add(source.ResourceSpans);
            source.ResourceSpans.Clear();
        }

        public override ExportTraceServiceRequest SplitOff(ExportTraceServiceRequest data, int maxItems)
        {
            var head = new ExportTraceServiceRequest();
            ResourceSplitter.SplitOff(data.ResourceSpans, head.ResourceSpans, maxItems,
                rs => rs.ScopeSpans,
                rs => new ResourceSpans { Resource = rs.Resource?.Clone(), SchemaUrl = rs.SchemaUrl },
                ss => ss.Spans,
                ss => new ScopeSpans { Scope = ss.Scope?.Clone(), SchemaUrl = ss.SchemaUrl });
            return head;
        }

        public override int RemoveInvalid(ExportTraceServiceRequest request, out string? problem)
        {
            problem = null;
            foreach (var rs in request.ResourceSpans)
                foreach (var ss in rs.ScopeSpans)
                    foreach (var span in ss.Spans)
                        if (Problem(span) is not null)
                            return ResourceSplitter.RemoveWhere(request.ResourceSpans, r => r.ScopeSpans, s => s.Spans, Problem, out problem);
            return 0;
        }

        private static string? Problem(Span span)
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

        public override ExportPartialSuccess ParseProtoResponse(ReadOnlySpan<byte> response) => Partial(ExportTraceServiceResponse.Parser.ParseFrom(response));

        public override ExportPartialSuccess ParseJsonResponse(ReadOnlySpan<byte> response) => Partial(OtlpJson.Parse<ExportTraceServiceResponse>(response));

        private static ExportPartialSuccess Partial(ExportTraceServiceResponse r) => new(r.PartialSuccess?.RejectedSpans ?? 0, r.PartialSuccess?.ErrorMessage ?? "");
    }
}
