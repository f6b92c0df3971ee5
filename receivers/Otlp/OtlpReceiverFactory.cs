using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Otlp;

namespace OtelAi.Receivers.Otlp;

/// <summary>Factory of the <c>otlp</c> receiver (otelcol's otlpreceiver).</summary>
public sealed class OtlpReceiverFactory : ReceiverFactory<OtlpReceiverConfig>
{
    public override string Type => "otlp";

    public override IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; } = AllSignals(StabilityLevel.Stable);

    internal static readonly SelfMetric UnauthenticatedRequests = SelfMetric.Counter("otelai_receiver_unauthenticated_requests",
        "Requests refused (401 / UNAUTHENTICATED) because the auth extension did not accept their credentials.", "receiver", "transport");

    internal static readonly SelfMetric RpcServerDuration = SelfMetric.Histogram("rpc_server_duration_milliseconds",
        "Duration of the receiver's gRPC Export calls, by method (its :path) and gRPC status code.", RequestDurations.Milliseconds, "receiver", "rpc_method", "rpc_grpc_status_code");

    internal static readonly SelfMetric HttpServerDuration = SelfMetric.Histogram("http_server_duration_milliseconds",
        "Duration of the receiver's OTLP/HTTP requests, by route and HTTP status code.", RequestDurations.Milliseconds, "receiver", "http_route", "http_status_code");

    protected override IEnumerable<SelfMetric> OwnSelfMetrics => [UnauthenticatedRequests, RpcServerDuration, HttpServerDuration];

    // No protocol until the config names one (`grpc:` alone enables gRPC with every default), as in otelcol.
    protected override IComponent Create(ComponentCreateSettings settings, OtlpReceiverConfig config, ReceiverConsumers consumers) =>
        new OtlpReceiver(settings, config, consumers);
}
