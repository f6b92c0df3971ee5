using OtelAi.Engine.Config;
using OtelAi.Otlp.Hosting;

namespace OtelAi.Engine.Settings;

/// <summary>
/// otelcol's confighttp ServerConfig, squashed into the configs of components that serve HTTP: where to listen,
/// body size limit, CORS, TLS, response headers and client metadata. The component sets the default endpoint.
/// </summary>
public sealed record HttpServerSettings : IConfigSection
{
    [ConfigDescription("host:port to listen on; localhost binds loopback only, 0.0.0.0 or an empty host every interface.")]
    public string Endpoint { get; init; } = "";

    [ConfigDescription("Largest request body accepted, in bytes, before and after decompression; larger requests get 413. At most 2147483646 (a body is held in one buffer); 0: the default.")]
    [ConfigRange(0, int.MaxValue - 1)]
    public long MaxRequestBodySize { get; init; } = 20L << 20;

    public CorsSettings? Cors { get; init; }

    public TlsServerSettings? Tls { get; init; }

    [ConfigDescription("Make request headers available to processors (client metadata).")]
    public bool IncludeMetadata { get; init; }

    [ConfigDescription("Headers added to every response.")]
    public Dictionary<string, string> ResponseHeaders { get; init; } = new();

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

    public long EffectiveMaxRequestBodySize => MaxRequestBodySize <= 0 ? 20L << 20 : MaxRequestBodySize;

    public IEnumerable<ConfigError> Validate()
    {
        if (!ServerHost.TryParseEndpoint(Endpoint, out _, out _, out var endpointError))
            yield return new ConfigError("endpoint", endpointError!);
        if (MaxUnfinishedRequestsMib > 0 && MaxUnfinishedRequestsMib << 20 < EffectiveMaxRequestBodySize)
            yield return new ConfigError("max_unfinished_requests_mib", $"must hold at least one largest request (max_request_body_size: {EffectiveMaxRequestBodySize} bytes)");

    }
}
