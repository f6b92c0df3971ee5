using OtelAi.Engine.Config;
using OtelAi.Engine.Exporter;
using OtelAi.Otlp;
using OtelAi.Exporters.Otlp;

namespace OtelAi.Exporters.OtlpHttp;

public enum OtlpHttpEncoding
{
    [ConfigKey("proto")] Proto,
    [ConfigKey("json")] Json,
}

[ConfigDescription("Sends traces, metrics and logs with OTLP over HTTP (protobuf or JSON).")]
public sealed record OtlpHttpExporterConfig : ComponentConfig
{
    [ConfigDescription("Base URL; signals go to <endpoint>/v1/traces, /v1/metrics and /v1/logs unless a per-signal endpoint is set.")]
    public string Endpoint { get; init; } = "";

    [ConfigDescription("Full URL for traces, overriding endpoint.")]
    public string? TracesEndpoint { get; init; }

    [ConfigDescription("Full URL for metrics, overriding endpoint.")]
    public string? MetricsEndpoint { get; init; }

    [ConfigDescription("Full URL for logs, overriding endpoint.")]
    public string? LogsEndpoint { get; init; }

    [ConfigDescription("Body encoding: proto (application/x-protobuf) or json (application/json).")]
    public OtlpHttpEncoding Encoding { get; init; } = OtlpHttpEncoding.Proto;

    [ConfigDescription("Body compression: gzip, deflate or none.")]
    public string Compression { get; init; } = "gzip";

    [ConfigDescription("Headers sent with every request (e.g. authorization, X-Scope-OrgID).")]
    public Dictionary<string, string> Headers { get; init; } = new();

    [ConfigDescription("Deadline of one export attempt.")]
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    [ConfigDescription("TLS settings for https:// endpoints (insecure has no effect here: the URL scheme decides).")]
    public TlsClientConfig Tls { get; init; } = new();

    [ConfigDescription("Queue in front of the consumers that send requests.")]
    public QueueConfig SendingQueue { get; init; } = new();

    [ConfigDescription("Retries of failed requests with exponential backoff.")]
    public RetryConfig RetryOnFailure { get; init; } = new();

    internal ExporterHelperOptions HelperOptions => new(Timeout, RetryOnFailure, SendingQueue);

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
        return Endpoint.EndsWith('/') ? Endpoint + OtlpSignal.For(signal).HttpPath : Endpoint + "/" + OtlpSignal.For(signal).HttpPath;
    }

    public override IEnumerable<ConfigError> Validate()
    {
        var anySpecific = false;
        foreach (var (key, url) in new[] { ("endpoint", Endpoint), ("traces_endpoint", TracesEndpoint), ("metrics_endpoint", MetricsEndpoint), ("logs_endpoint", LogsEndpoint) })
        {
            if (string.IsNullOrEmpty(url)) continue;
            if (key != "endpoint") anySpecific = true;
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                yield return new(key, $"\"{url}\" is not an http:// or https:// URL");
        }
        if (string.IsNullOrEmpty(Endpoint) && !anySpecific)
            yield return new("endpoint", "at least one of endpoint, traces_endpoint, metrics_endpoint, logs_endpoint must be set");
        if (Compression is not ("" or "none" or "gzip" or "deflate"))
            yield return new("compression", $"unsupported compression \"{Compression}\" (supported: gzip, deflate, none)");
        foreach (var e in Tls.Validate("tls")) yield return e;
        foreach (var e in ExporterHelperOptions.Validate(Timeout, RetryOnFailure, SendingQueue)) yield return e;
    }
}
