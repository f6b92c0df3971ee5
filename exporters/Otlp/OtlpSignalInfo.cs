using Google.Protobuf;
using OtelAi.Engine.Telemetry;
using OtelAi.Proto.Collector.Logs.V1;
using OtelAi.Proto.Collector.Metrics.V1;
using OtelAi.Proto.Collector.Trace.V1;

namespace OtelAi.Exporters.Otlp;

/// <summary>Per-signal OTLP wire facts both exporters need: gRPC method path, HTTP path, and the response's partial success.</summary>
internal sealed class OtlpSignalInfo
{
    private OtlpSignalInfo(string grpcPath, string httpPath, Func<ReadOnlySpan<byte>, (long Rejected, string Message)> parseProto,
        Func<ReadOnlySpan<byte>, (long Rejected, string Message)> parseJson)
    {
        GrpcPath = grpcPath;
        HttpPath = httpPath;
        ParseProtoResponse = parseProto;
        ParseJsonResponse = parseJson;
    }

    /// <summary><c>/opentelemetry.proto.collector.traces.v1.TraceService/Export</c> and its siblings.</summary>
    public string GrpcPath { get; }

    /// <summary><c>v1/traces</c> and its siblings (relative to the base endpoint).</summary>
    public string HttpPath { get; }

    /// <summary>Rejected item count and message of an Export*ServiceResponse's partial_success (0 and "" when unset).</summary>
    public Func<ReadOnlySpan<byte>, (long Rejected, string Message)> ParseProtoResponse { get; }

    public Func<ReadOnlySpan<byte>, (long Rejected, string Message)> ParseJsonResponse { get; }

    public static OtlpSignalInfo For(Signal signal) => signal switch
    {
        Signal.Traces => Traces,
        Signal.Metrics => Metrics,
        Signal.Logs => Logs,
        _ => throw new ArgumentOutOfRangeException(nameof(signal)),
    };

    private static readonly OtlpSignalInfo Traces = new(
        "/opentelemetry.proto.collector.trace.v1.TraceService/Export", "v1/traces",
        bytes => Partial(ExportTraceServiceResponse.Parser.ParseFrom(bytes)),
        bytes => Partial(Engine.Telemetry.Json.OtlpJson.Parse<ExportTraceServiceResponse>(bytes)));

    private static readonly OtlpSignalInfo Metrics = new(
        "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export", "v1/metrics",
        bytes => Partial(ExportMetricsServiceResponse.Parser.ParseFrom(bytes)),
        bytes => Partial(Engine.Telemetry.Json.OtlpJson.Parse<ExportMetricsServiceResponse>(bytes)));

    private static readonly OtlpSignalInfo Logs = new(
        "/opentelemetry.proto.collector.logs.v1.LogsService/Export", "v1/logs",
        bytes => Partial(ExportLogsServiceResponse.Parser.ParseFrom(bytes)),
        bytes => Partial(Engine.Telemetry.Json.OtlpJson.Parse<ExportLogsServiceResponse>(bytes)));

    private static (long, string) Partial(ExportTraceServiceResponse r) => (r.PartialSuccess?.RejectedSpans ?? 0, r.PartialSuccess?.ErrorMessage ?? "");
    private static (long, string) Partial(ExportMetricsServiceResponse r) => (r.PartialSuccess?.RejectedDataPoints ?? 0, r.PartialSuccess?.ErrorMessage ?? "");
    private static (long, string) Partial(ExportLogsServiceResponse r) => (r.PartialSuccess?.RejectedLogRecords ?? 0, r.PartialSuccess?.ErrorMessage ?? "");
}
