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

    public long EffectiveMaxRequestBodySize => MaxRequestBodySize <= 0 ? 20L << 20 : MaxRequestBodySize;

    public IEnumerable<ConfigError> Validate()
    {
        if (!ServerHost.TryParseEndpoint(Endpoint, out _, out _, out var endpointError))
            yield return new ConfigError("endpoint", endpointError!);

    }
}
