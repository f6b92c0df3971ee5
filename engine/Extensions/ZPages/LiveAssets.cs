using System.Collections.Frozen;
using Microsoft.AspNetCore.Http;

namespace OtelAi.Engine.Extensions.ZPages;

/// <summary>
/// The live page's static files, embedded in the assembly (no CDN, no build step): served without credentials, as
/// they hold no data; the page asks for a token when the API answers 401.
/// </summary>
internal static class LiveAssets
{
    private static readonly FrozenDictionary<string, (string ContentType, byte[] Body)> Files = new Dictionary<string, (string, byte[])>
    {
        ["/"] = ("text/html; charset=utf-8", Read("index.html")),
        ["/live.js"] = ("text/javascript; charset=utf-8", Read("live.js")),
        ["/live.css"] = ("text/css; charset=utf-8", Read("live.css")),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>Writes the file at <paramref name="path"/>; null when no file is there.</summary>
    public static Task? Serve(HttpContext context, string path)
    {
        if (!Files.TryGetValue(path, out var file)) return null;
        context.Response.ContentType = file.ContentType;
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers.ContentSecurityPolicy = "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:";
        context.Response.ContentLength = file.Body.Length;
        return HttpMethods.IsGet(context.Request.Method) ? context.Response.Body.WriteAsync(file.Body).AsTask() : Task.CompletedTask;
    }

    private static byte[] Read(string name)
    {
        using var stream = typeof(LiveAssets).Assembly.GetManifestResourceStream($"otelai.zpages.{name}")
            ?? throw new InvalidOperationException($"the live page's {name} is not embedded in the assembly");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
