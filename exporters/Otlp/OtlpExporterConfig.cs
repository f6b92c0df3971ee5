using OtelAi.Engine.Config;
using OtelAi.Engine.Exporter;

namespace OtelAi.Exporters.Otlp;

/// <summary>gRPC keepalive pings (otelcol's configgrpc keepalive client settings).</summary>
public sealed record KeepaliveClientConfig
{
    [ConfigDescription("Send a ping after this long without activity.")]
    public TimeSpan Time { get; init; } = TimeSpan.FromSeconds(30);

    [ConfigDescription("Close the connection when a ping is not answered within this time.")]
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    [ConfigDescription("Ping even when no request is in flight.")]
    public bool PermitWithoutStream { get; init; }
}

[ConfigDescription("Sends traces, metrics and logs with OTLP over gRPC.")]
public sealed record OtlpExporterConfig : ComponentConfig
{
    [ConfigDescription("host:port of the OTLP/gRPC server. An http:// prefix means plain text, https:// means TLS; without a scheme tls.insecure decides.")]
    public string Endpoint { get; init; } = "";

    [ConfigDescription("TLS settings; TLS is on unless tls.insecure is true or the endpoint starts with http://.")]
    public TlsClientConfig Tls { get; init; } = new();

    [ConfigDescription("Headers sent with every request (e.g. authorization, X-Scope-OrgID).")]
    public Dictionary<string, string> Headers { get; init; } = new();

    [ConfigDescription("Message compression: gzip or none.")]
    public string Compression { get; init; } = "gzip";

    [ConfigDescription("Deadline of one export attempt (sent as grpc-timeout).")]
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);

    [ConfigDescription("Accepted for otelcol compatibility (pick_first or round_robin); connections go to the address the endpoint resolves to.")]
    public string BalancerName { get; init; } = "round_robin";

    [ConfigDescription("HTTP/2 keepalive pings; unset means none.")]
    public KeepaliveClientConfig? Keepalive { get; init; }

    [ConfigDescription("Queue in front of the consumers that send requests.")]
    public QueueConfig SendingQueue { get; init; } = new();

    [ConfigDescription("Retries of failed requests with exponential backoff.")]
    public RetryConfig RetryOnFailure { get; init; } = new();

    internal ExporterHelperOptions HelperOptions => new(Timeout, RetryOnFailure, SendingQueue);

    public override IEnumerable<ConfigError> Validate()
    {
        if (string.IsNullOrWhiteSpace(Endpoint)) yield return new("endpoint", "must be set (host:port of the OTLP/gRPC server)");
        else if (!GrpcEndpoint.TryParse(Endpoint, Tls.Insecure, out _, out var error)) yield return new("endpoint", error!);
        if (!IsSupportedCompression(Compression))
            yield return new("compression", $"unsupported compression \"{Compression}\" (supported: gzip, none)");
        if (BalancerName is not ("" or "pick_first" or "round_robin"))
            yield return new("balancer_name", $"unknown balancer \"{BalancerName}\" (pick_first or round_robin)");
        if (Keepalive is { } keepalive && (keepalive.Time <= TimeSpan.Zero || keepalive.Timeout <= TimeSpan.Zero))
            yield return new("keepalive", "time and timeout must be positive");
        foreach (var e in Tls.Validate("tls")) yield return e;
        foreach (var e in ExporterHelperOptions.Validate(Timeout, RetryOnFailure, SendingQueue)) yield return e;
    }

    internal static bool IsSupportedCompression(string compression) => compression is "" or "none" or "gzip";
}

/// <summary>An otelcol gRPC endpoint resolved to the URI we send to and whether TLS is used.</summary>
internal readonly record struct GrpcEndpoint(Uri BaseUri, string Host, bool UseTls)
{
    /// <summary>Accepts <c>host:port</c>, <c>http://host:port</c>, <c>https://host:port</c> and gRPC's <c>dns:///host:port</c>.</summary>
    public static bool TryParse(string endpoint, bool insecure, out GrpcEndpoint parsed, out string? error)
    {
        parsed = default;
        var text = endpoint.Trim();
        var useTls = !insecure;
        if (text.StartsWith("http://", StringComparison.OrdinalIgnoreCase)) { text = text[7..]; useTls = false; }
        else if (text.StartsWith("https://", StringComparison.OrdinalIgnoreCase)) { text = text[8..]; useTls = true; }
        else if (text.StartsWith("dns:///", StringComparison.OrdinalIgnoreCase)) text = text[7..];
        text = text.TrimEnd('/');
        if (!Uri.TryCreate($"{(useTls ? "https" : "http")}://{text}", UriKind.Absolute, out var uri) || uri.AbsolutePath != "/" || text.Length == 0)
        {
            error = $"\"{endpoint}\" is not a host:port endpoint";
            return false;
        }
        if (uri.IsDefaultPort && !text.EndsWith($":{uri.Port}", StringComparison.Ordinal))
        {
            error = $"\"{endpoint}\" has no port (OTLP/gRPC usually listens on 4317)";
            return false;
        }
        parsed = new GrpcEndpoint(uri, uri.IdnHost, useTls);
        error = null;
        return true;
    }
}
