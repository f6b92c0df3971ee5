using OtelAi.Engine.Config;

namespace OtelAi.Engine.Settings;

/// <summary>otelcol's confighttp CORSConfig: which browser origins may call an HTTP server.</summary>
public sealed record CorsSettings
{
    [ConfigDescription("Origins allowed to send requests; * and one-wildcard patterns such as https://*.example.com.")]
    public List<string> AllowedOrigins { get; init; } = [];

    [ConfigDescription("Request headers allowed besides the CORS-safelisted ones; * allows any.")]
    public List<string> AllowedHeaders { get; init; } = [];

    [ConfigDescription("Seconds a browser may cache a preflight answer (0 = header not sent).")]
    [ConfigRange(0)]
    public int MaxAge { get; init; }
}
