using Google.Protobuf;
using OtelAi.Otlp.Json;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Logs.V1;

namespace OtelAi.Otlp;

public abstract partial class OtlpSignal<T>
{
    private sealed class LogsSignal() : OtlpSignal<ExportLogsServiceRequest>(Signal.Logs, LogsServiceReflection.Descriptor, "v1/logs")
    {
        public override MessageParser<ExportLogsServiceRequest> Parser { get; } = ExportLogsServiceRequest.Parser.WithDiscardUnknownFields(true);

        public override int ResourceCount(ExportLogsServiceRequest data) => data.ResourceLogs.Count;

        public override int CountItems(ExportLogsServiceRequest data)
        {
            var n = 0;
            foreach (var rl in data.ResourceLogs)
                foreach (var sl in rl.ScopeLogs)
                    n += sl.LogRecords.Count;
            return n;
        }

        public override void MoveAllTo(ExportLogsServiceRequest source, ExportLogsServiceRequest destination)
        {
            destination.ResourceLogs.Add(source.ResourceLogs);
            source.ResourceLogs.Clear();
        }

        public override ExportLogsServiceRequest SplitOff(ExportLogsServiceRequest data, int maxItems)
        {
            var head = new ExportLogsServiceRequest();
            ResourceSplitter.SplitOff(data.ResourceLogs, head.ResourceLogs, maxItems,
                rl => rl.ScopeLogs,
                rl => new ResourceLogs { Resource = rl.Resource?.Clone(), SchemaUrl = rl.SchemaUrl },
                sl => sl.LogRecords,
                sl => new ScopeLogs { Scope = sl.Scope?.Clone(), SchemaUrl = sl.SchemaUrl });
            return head;
        }

        public override int RemoveInvalid(ExportLogsServiceRequest request, out string? problem)
        {
            problem = null;
            foreach (var rl in request.ResourceLogs)
                foreach (var sl in rl.ScopeLogs)
                    foreach (var record in sl.LogRecords)
                        if (Problem(record) is not null)
                            return ResourceSplitter.RemoveWhere(request.ResourceLogs, r => r.ScopeLogs, s => s.LogRecords, Problem, out problem);
            return 0;
        }

        private static string? Problem(LogRecord record)
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
