using Google.Protobuf;
using Google.Protobuf.Collections;
using OtelAi.Otlp.Json;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Logs.V1;

namespace OtelAi.Otlp;

public abstract partial class OtlpSignal<T>
{
    private sealed class LogsSignal() : NestedSignal<ExportLogsServiceRequest, ResourceLogs, ScopeLogs, LogRecord>(Signal.Logs, LogsServiceReflection.Descriptor, "v1/logs")
    {
        public override MessageParser<ExportLogsServiceRequest> Parser { get; } = ExportLogsServiceRequest.Parser.WithDiscardUnknownFields(true);

        protected override RepeatedField<ResourceLogs> Resources(ExportLogsServiceRequest request) => request.ResourceLogs;

        protected override RepeatedField<ScopeLogs> Scopes(ResourceLogs resource) => resource.ScopeLogs;

        protected override RepeatedField<LogRecord> Items(ScopeLogs scope) => scope.LogRecords;

        protected override ResourceLogs EmptyCopy(ResourceLogs resource) => new() { Resource = resource.Resource?.Clone(), SchemaUrl = resource.SchemaUrl };

        protected override ScopeLogs EmptyCopy(ScopeLogs scope) => new() { Scope = scope.Scope?.Clone(), SchemaUrl = scope.SchemaUrl };

        protected override string? Problem(LogRecord record)
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

        public override ExportPartialSuccess ParseProtoResponse(ReadOnlySpan<byte> response) => Partial(ExportLogsServiceResponse.Parser.ParseFrom(response));

        public override ExportPartialSuccess ParseJsonResponse(ReadOnlySpan<byte> response) => Partial(OtlpJson.Parse<ExportLogsServiceResponse>(response));

        private static ExportPartialSuccess Partial(ExportLogsServiceResponse r) => new(r.PartialSuccess?.RejectedLogRecords ?? 0, r.PartialSuccess?.ErrorMessage ?? "");
    }
}
