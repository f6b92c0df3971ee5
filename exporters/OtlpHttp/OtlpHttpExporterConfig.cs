using OtelAi.Engine.Config;
using OtelAi.Engine.Exporter;
using OtelAi.Engine.Settings;
using OtelAi.Otlp;

namespace OtelAi.Exporters.OtlpHttp;

public enum OtlpHttpEncoding
{
    [ConfigKey("proto")] Proto,
    [ConfigKey("json")] Json,
}

[ConfigDescription("Sends traces, metrics and logs with OTLP over HTTP (protobuf or JSON).")]
public sealed record OtlpHttpExporterConfig : ComponentConfig
{
    [ConfigSquash]
    public HttpClientSettings Client { get; init; } = new();

    [ConfigSquash]
    public TimeoutSettings TimeoutSettings { get; init; } = new() { Timeout = TimeSpan.FromSeconds(30) };

    [ConfigDescription("Full URL for traces, overriding endpoint.")]
    public string? TracesEndpoint { get; init; }

    [ConfigDescription("Full URL for metrics, overriding endpoint.")]
    public string? MetricsEndpoint { get; init; }

    [ConfigDescription("Full URL for logs, overriding endpoint.")]
    public string? LogsEndpoint { get; init; }

    [ConfigDescription("Body encoding: proto (application/x-protobuf) or json (application/json).")]
    public OtlpHttpEncoding Encoding { get; init; } = OtlpHttpEncoding.Proto;

    [ConfigDescription("Queue in front of the consumers that send requests.")]
    public QueueConfig SendingQueue { get; init; } = new();

    [ConfigDescription("Retries of failed requests with exponential backoff.")]
    public RetryConfig RetryOnFailure { get; init; } = new();

    internal ExporterHelperOptions HelperOptions => new(TimeoutSettings.Timeout, RetryOnFailure, SendingQueue);

    /// <summary>The URL a signal is posted to: its own endpoint, or the base endpoint plus v1/{signal}.</summary>
    internal string SignalUrl(Signal signal)
    {
        var specific = signal switch
        {
            Signal.Traces => TracesEndpoint,
            Signal.Metrics => MetricsEndpoint,
            _ => LogsEndpoint,
        };
        if (!string.IsNullOrEmpty(specific)) return specific;
        var endpoint = Client.Endpoint;
        return endpoint.EndsWith('/') ? endpoint + OtlpSignal.For(signal).HttpPath : endpoint + "/" + OtlpSignal.For(signal).HttpPath;
    }

    public override IEnumerable<ConfigError> Validate()
    {
        var anySpecific = false;
        foreach (var (key, url) in new[] { ("traces_endpoint", TracesEndpoint), ("metrics_endpoint", MetricsEndpoint), ("logs_endpoint", LogsEndpoint) })
        {
            if (string.IsNullOrEmpty(url)) continue;
            anySpecific = true;
            if (!HttpClientSettings.IsHttpUrl(url)) yield return new(key, $"\"{url}\" is not an http:// or https:// URL");
        }
        if (string.IsNullOrEmpty(Client.Endpoint) && !anySpecific)
            yield return new("endpoint", "at least one of endpoint, traces_endpoint, metrics_endpoint, logs_endpoint must be set");
    }
}
