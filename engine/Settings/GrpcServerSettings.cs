using OtelAi.Engine.Config;
using OtelAi.Otlp.Hosting;

namespace OtelAi.Engine.Settings;

/// <summary>
/// otelcol's configgrpc ServerConfig, squashed into the configs of components that serve gRPC: where to listen,
/// message size and stream limits, keepalive, TLS and client metadata. The component sets the default endpoint.
/// </summary>
public sealed record GrpcServerSettings : IConfigSection
{
    [ConfigDescription("host:port to listen on; localhost binds loopback only, 0.0.0.0 or an empty host every interface.")]
    public string Endpoint { get; init; } = "";

    [ConfigDescription("Listener transport; only tcp is served.")]
    public string Transport { get; init; } = "tcp";

    [ConfigDescription("Largest request message accepted, in MiB (after decompression).")]
    [ConfigRange(0)]
    public int MaxRecvMsgSizeMib { get; init; } = 4;

    [ConfigDescription("Concurrent HTTP/2 streams per connection; 0 keeps the server default (100).")]
    [ConfigRange(0)]
    public int MaxConcurrentStreams { get; init; }

    [ConfigDescription("Accepted for otelcol compatibility; Kestrel sizes its socket buffers itself.")]
    [ConfigRange(0)]
    public int ReadBufferSize { get; init; } = 512 * 1024;

    [ConfigDescription("Accepted for otelcol compatibility; Kestrel sizes its socket buffers itself.")]
    [ConfigRange(0)]
    public int WriteBufferSize { get; init; }

    public KeepaliveServerSettings? Keepalive { get; init; }

    public TlsServerSettings? Tls { get; init; }

    [ConfigDescription("Make request headers available to processors (client metadata).")]
    public bool IncludeMetadata { get; init; }

    [ConfigDescription("An authenticator extension every request must satisfy (401 / UNAUTHENTICATED otherwise).")]
    public Extensions.Auth.AuthSettings? Auth { get; init; }

    [ConfigDescription("otelai: most connections open at once on this listener; more are closed at once (a client reconnects later). 0: 10000.")]
    [ConfigRange(0)]
    public int MaxConnections { get; init; }

    [ConfigDescription("otelai: most MiB that requests still arriving may hold on this listener, across connections; a request that would pass it is refused as retryable (HTTP 503 with Retry-After, gRPC UNAVAILABLE), so slow or stalled clients cannot hold the memory everyone needs. 0: 5 % of the memory available to the process, at least 64 MiB and two of the largest request.")]
    [ConfigRange(0, 1L << 20)]
    public long MaxUnfinishedRequestsMib { get; init; }

    /// <summary><see cref="MaxConnections"/> with its default applied.</summary>
    public int EffectiveMaxConnections => MaxConnections == 0 ? 10_000 : MaxConnections;

    public long MaxRecvMsgSizeBytes => MaxRecvMsgSizeMib == 0 ? 4L << 20 : (long)MaxRecvMsgSizeMib << 20;

    public IEnumerable<ConfigError> Validate()
    {
        if (!ServerHost.TryParseEndpoint(Endpoint, out _, out _, out var endpointError))
            yield return new ConfigError("endpoint", endpointError!);
        if (Transport != "tcp")
            yield return new ConfigError("transport", $"transport \"{Transport}\" is not supported; use tcp");
        if (MaxRecvMsgSizeBytes > int.MaxValue - 5)
            yield return new ConfigError("max_recv_msg_size_mib", "must be below 2048");
        if (MaxUnfinishedRequestsMib > 0 && MaxUnfinishedRequestsMib << 20 < MaxRecvMsgSizeBytes)
            yield return new ConfigError("max_unfinished_requests_mib", $"must hold at least one largest request (max_recv_msg_size_mib: {MaxRecvMsgSizeBytes >> 20})");
    }
}
