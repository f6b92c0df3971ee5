using OtelAi.Engine.Config;
using OtelAi.Engine.Exporter;
using OtelAi.Engine.Settings;

namespace OtelAi.Exporters.Otlp;

[ConfigDescription("Sends traces, metrics and logs with OTLP over gRPC.")]
public sealed record OtlpExporterConfig : ComponentConfig
{
    [ConfigSquash]
    public GrpcClientSettings Client { get; init; } = new();

    [ConfigSquash]
    public TimeoutSettings TimeoutSettings { get; init; } = new();

    [ConfigDescription("Queue in front of the consumers that send requests.")]
    public QueueConfig SendingQueue { get; init; } = new();

    [ConfigDescription("Retries of failed requests with exponential backoff.")]
    public RetryConfig RetryOnFailure { get; init; } = new();

    internal ExporterHelperOptions HelperOptions => new(TimeoutSettings.Timeout, RetryOnFailure, SendingQueue);

    public override IEnumerable<ConfigError> Validate()
    {
        if (string.IsNullOrWhiteSpace(Client.Endpoint)) yield return new("endpoint", "must be set (host:port of the OTLP/gRPC server)");
    }
}
