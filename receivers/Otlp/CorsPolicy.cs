using System.Globalization;
using Microsoft.AspNetCore.Http;
using OtelAi.Engine.Settings;

namespace OtelAi.Receivers.Otlp;

/// <summary>
/// CORS as otelcol's confighttp applies it (rs/cors with credentials allowed): origins match exactly, by "*",
/// or by one-wildcard patterns; preflights are answered 204 here and never reach the export handlers.
/// </summary>
internal sealed class CorsPolicy
{
    // Always allowed, as confighttp documents (CORS-safelisted headers plus Origin); X-Requested-With only by default.
    private static readonly string[] ImplicitHeaders = ["origin", "accept", "accept-language", "content-type", "content-language"];
    private static readonly string[] AllowedMethods = ["GET", "POST", "HEAD"];
    private readonly bool _anyOrigin;
    private readonly (string Prefix, string Suffix)[] _patterns;
    private readonly HashSet<string> _origins;
    private readonly bool _anyHeader;
    private readonly HashSet<string> _headers;
    private readonly int _maxAge;

    public CorsPolicy(CorsSettings config)
    {
        _anyOrigin = config.AllowedOrigins.Contains("*");
        _origins = new HashSet<string>(config.AllowedOrigins.Where(o => !o.Contains('*')), StringComparer.OrdinalIgnoreCase);
        _patterns = config.AllowedOrigins.Where(o => o != "*" && o.Contains('*'))
            .Select(o => (o[..o.IndexOf('*')], o[(o.IndexOf('*') + 1)..])).ToArray();
        _anyHeader = config.AllowedHeaders.Contains("*");
        _headers = new HashSet<string>(ImplicitHeaders.Concat(config.AllowedHeaders.Count == 0 ? ["x-requested-with"] : config.AllowedHeaders), StringComparer.OrdinalIgnoreCase);
        _maxAge = config.MaxAge;
    }

    public bool IsOriginAllowed(string origin) =>
        _anyOrigin || _origins.Contains(origin)
        || _patterns.Any(p => origin.Length >= p.Prefix.Length + p.Suffix.Length
                              && origin.StartsWith(p.Prefix, StringComparison.OrdinalIgnoreCase)
                              && origin.EndsWith(p.Suffix, StringComparison.OrdinalIgnoreCase));

    public void AddActualRequestHeaders(HttpContext context)
    {
        var origin = context.Request.Headers.Origin.ToString();
        context.Response.Headers.Vary = "Origin";
        if (!IsOriginAllowed(origin)) return;
        context.Response.Headers.AccessControlAllowOrigin = origin;
        context.Response.Headers.AccessControlAllowCredentials = "true";
    }

    public void WritePreflight(HttpContext context)
    {
        var request = context.Request;
        var response = context.Response;
        response.StatusCode = StatusCodes.Status204NoContent;
        response.Headers.Vary = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";
        var origin = request.Headers.Origin.ToString();
        var method = request.Headers.AccessControlRequestMethod.ToString();
        if (!IsOriginAllowed(origin) || !AllowedMethods.Contains(method.ToUpperInvariant())) return;

        var requested = request.Headers.AccessControlRequestHeaders.ToString()
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (!_anyHeader && requested.Any(h => !_headers.Contains(h))) return;

        response.Headers.AccessControlAllowOrigin = origin;
        response.Headers.AccessControlAllowCredentials = "true";
        response.Headers.AccessControlAllowMethods = method.ToUpperInvariant();
        if (requested.Length > 0) response.Headers.AccessControlAllowHeaders = string.Join(", ", requested);
        if (_maxAge > 0) response.Headers.AccessControlMaxAge = _maxAge.ToString(CultureInfo.InvariantCulture);
    }
}
