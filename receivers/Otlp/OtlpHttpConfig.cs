using OtelAi.Engine.Config;
using OtelAi.Engine.Settings;

namespace OtelAi.Receivers.Otlp;

/// <summary><c>protocols.http</c>: the shared HTTP server settings with the otlp receiver's default endpoint, plus its URL paths.</summary>
public sealed record OtlpHttpConfig : IConfigSection
{
    [ConfigSquash]
    public HttpServerSettings Server { get; init; } = new() { Endpoint = "localhost:4318" };

    public string TracesUrlPath { get; init; } = "/v1/traces";

    public string MetricsUrlPath { get; init; } = "/v1/metrics";

    public string LogsUrlPath { get; init; } = "/v1/logs";

    /// <summary>As otelcol: a path written without its leading / gets one (<c>v1/traces</c> serves <c>/v1/traces</c>).</summary>
    internal static string Rooted(string path) => path.StartsWith('/') ? path : "/" + path;

    public IEnumerable<ConfigError> Validate()
    {
        foreach (var (key, path) in new[] { ("traces_url_path", TracesUrlPath), ("metrics_url_path", MetricsUrlPath), ("logs_url_path", LogsUrlPath) })
            if (path.IndexOfAny(['?', '#', ' ']) >= 0)
                yield return new ConfigError(key, $"\"{path}\" is not a URL path");
    }
}
