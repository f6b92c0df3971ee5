namespace OtelAi.Engine.Settings;

/// <summary>An otelcol gRPC endpoint resolved to the URI we send to and whether TLS is used.</summary>
public readonly record struct GrpcEndpoint(Uri BaseUri, string Host, bool UseTls)
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
