using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace OtelAi.Otlp.Hosting;

/// <summary>
/// How a <see cref="ServerHost"/> listens: the protocols of a plaintext listener (TLS listeners negotiate by
/// ALPN), TLS, limits, and the logger that hears of handler failures (none: they are not logged).
/// </summary>
internal sealed record ServerHostSetup
{
    /// <summary>Plain HTTP/1.1, default limits: the engine's own small endpoints.</summary>
    public static readonly ServerHostSetup Http1 = new();

    /// <summary>The engine's small endpoints (health, zpages, self-metrics): plain HTTP/1.1, or TLS when configured.</summary>
    public static ServerHostSetup Http1Or(ServerTls? tls, ILogger? logger = null) => tls is null ? Http1 : new ServerHostSetup { Tls = tls, Logger = logger };

    public HttpProtocols PlaintextProtocols { get; init; } = HttpProtocols.Http1;

    public ServerTls? Tls { get; init; }

    public Action<KestrelServerOptions>? ConfigureLimits { get; init; }

    /// <summary>Most connections open at once; null: no limit (the engine's own small endpoints).</summary>
    public int? MaxConnections { get; init; }

    public ILogger? Logger { get; init; }
}
