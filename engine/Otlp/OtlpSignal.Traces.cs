using Google.Protobuf;
using Google.Protobuf.Collections;
using OtelAi.Otlp.Json;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Otlp.Proto.Trace.V1;

namespace OtelAi.Otlp;

public abstract partial class OtlpSignal<T>
{
    private sealed class TracesSignal() : NestedSignal<ExportTraceServiceRequest, ResourceSpans, ScopeSpans, Span>(Signal.Traces, TraceServiceReflection.Descriptor, "v1/traces")
    {
        public override MessageParser<ExportTraceServiceRequest> Parser { get; } = ExportTraceServiceRequest.Parser.WithDiscardUnknownFields(true);

        protected override RepeatedField<ResourceSpans> Resources(ExportTraceServiceRequest request) => request.ResourceSpans;

        protected override RepeatedField<ScopeSpans> Scopes(ResourceSpans resource) => resource.ScopeSpans;

        protected override RepeatedField<Span> Items(ScopeSpans scope) => scope.Spans;

        protected override ResourceSpans EmptyCopy(ResourceSpans resource) => new() { Resource = resource.Resource?.Clone(), SchemaUrl = resource.SchemaUrl };

        protected override ScopeSpans EmptyCopy(ScopeSpans scope) => new() { Scope = scope.Scope?.Clone(), SchemaUrl = scope.SchemaUrl };

        protected override string? Problem(Span span)
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
