using OtelAi.Engine.Config;

namespace OtelAi.Engine.Settings;

/// <summary>
/// otelcol's configgrpc ClientConfig, squashed into the configs of components that call a gRPC server: where to
/// connect, TLS, message compression, headers, keepalive and the balancer.
/// </summary>
public sealed record GrpcClientSettings : IConfigSection
{
    [ConfigDescription("host:port of the gRPC server. An http:// prefix means plain text, https:// means TLS; without a scheme tls.insecure decides.")]
    public string Endpoint { get; init; } = "";

    [ConfigDescription("TLS settings; TLS is on unless tls.insecure is true or the endpoint starts with http://.")]
    public TlsClientSettings Tls { get; init; } = new();

    [ConfigDescription("Headers sent with every request (e.g. authorization, X-Scope-OrgID).")]
    public Dictionary<string, string> Headers { get; init; } = new();

    [ConfigDescription("An authenticator extension that adds credentials to every request (bearertokenauth, basicauth, headers_setter).")]
    public Extensions.Auth.AuthSettings? Auth { get; init; }

    [ConfigDescription("Message compression: gzip or none.")]
    public Compression Compression { get; init; } = Compression.Gzip;

    [ConfigDescription("Compression level (otelai; otelcol's gRPC clients use zlib's default): see compression_params.level.")]
    public CompressionParams CompressionParams { get; init; } = new();

    [ConfigDescription("Accepted for otelcol compatibility (pick_first or round_robin); connections go to the address the endpoint resolves to.")]
    public string BalancerName { get; init; } = "round_robin";

    [ConfigDescription("HTTP/2 keepalive pings; unset means none.")]
    public KeepaliveClientSettings? Keepalive { get; init; }

    public IEnumerable<ConfigError> Validate()
    {
        if (Endpoint.Length > 0 && !GrpcEndpoint.TryParse(Endpoint, Tls.Insecure, out _, out var error)) yield return new("endpoint", error!);
        // gRPC clients speak the gzip message encoding only (grpc-encoding), as otelcol's otlp exporter does by default.
        if (Compression is not (Compression.None or Compression.Gzip))
            yield return new("compression", $"unsupported compression \"{Compression.ToString().ToLowerInvariant()}\" for gRPC (supported: gzip, none)");
        else
            foreach (var problem in CompressionParams.Validate(Compression)) yield return problem;
        if (BalancerName is not ("" or "pick_first" or "round_robin"))
            yield return new("balancer_name", $"unknown balancer \"{BalancerName}\" (pick_first or round_robin)");
    }
}
