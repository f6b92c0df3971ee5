using OtelAi.Engine.Config;

namespace OtelAi.Engine.Settings;

/// <summary>
/// otelcol's confighttp ClientConfig, squashed into the configs of components that call an HTTP server: the base
/// URL, TLS, body compression and headers.
/// </summary>
public sealed record HttpClientSettings : IConfigSection
{
    [ConfigDescription("Base URL of the server (http:// or https://); otlphttp posts each signal to <endpoint>/v1/traces, /v1/metrics or /v1/logs unless that signal's own endpoint is set.")]
    public string Endpoint { get; init; } = "";

    [ConfigDescription("TLS settings for https:// endpoints (insecure has no effect here: the URL scheme decides).")]
    public TlsClientSettings Tls { get; init; } = new();

    [ConfigDescription("Headers sent with every request (e.g. authorization, X-Scope-OrgID).")]
    public Dictionary<string, string> Headers { get; init; } = new();

    [ConfigDescription("An authenticator extension that adds credentials to every request (bearertokenauth, basicauth, headers_setter).")]
    public Extensions.Auth.AuthSettings? Auth { get; init; }

    [ConfigDescription("Body compression: gzip, deflate or none.")]
    public Compression Compression { get; init; } = Compression.Gzip;

    [ConfigDescription("Compression level (see compression_params.level).")]
    public CompressionParams CompressionParams { get; init; } = new();

    [ConfigDescription("HTTP proxy to send through (http://host:port); empty: connect directly.")]
    public string ProxyUrl { get; init; } = "";

    [ConfigDescription("How long an idle connection stays open for reuse (otelcol's default 90s; 0: no limit).")]
    public TimeSpan IdleConnTimeout { get; init; } = TimeSpan.FromSeconds(90);

    [ConfigDescription("Most connections to one host at once (0: no limit).")]
    [ConfigRange(0)]
    public int MaxConnsPerHost { get; init; }

    [ConfigDescription("Open a new connection for every request.")]
    public bool DisableKeepAlives { get; init; }

    [ConfigDescription("Accepted for otelcol compatibility; .NET sizes its socket buffers itself.")]
    [ConfigRange(0)]
    public int ReadBufferSize { get; init; }

    [ConfigDescription("Accepted for otelcol compatibility; .NET sizes its socket buffers itself.")]
    [ConfigRange(0)]
    public int WriteBufferSize { get; init; }

    [ConfigDescription("Accepted for otelcol compatibility; .NET's pool closes idle connections by idle_conn_timeout, not by count.")]
    [ConfigRange(0)]
    public int? MaxIdleConns { get; init; }

    [ConfigDescription("Accepted for otelcol compatibility, as max_idle_conns.")]
    [ConfigRange(0)]
    public int? MaxIdleConnsPerHost { get; init; }

    public IEnumerable<ConfigError> Validate()
    {
        if (Endpoint.Length > 0 && !IsHttpUrl(Endpoint)) yield return new("endpoint", $"\"{Endpoint}\" is not an http:// or https:// URL");
        if (ProxyUrl.Length > 0 && !IsHttpUrl(ProxyUrl)) yield return new("proxy_url", $"\"{ProxyUrl}\" is not an http:// or https:// URL");
        if (IdleConnTimeout < TimeSpan.Zero) yield return new("idle_conn_timeout", "must not be negative");
        foreach (var error in CompressionParams.Validate(Compression)) yield return error;
    }

    public static bool IsHttpUrl(string url) => Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https";
}
