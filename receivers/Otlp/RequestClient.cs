using Microsoft.AspNetCore.Http;
using OtelAi.Engine.Consumers;

namespace OtelAi.Receivers.Otlp;

/// <summary>Builds the <see cref="ClientInfo"/> of a request: the peer address, and the headers when include_metadata is on.</summary>
internal static class RequestClient
{
    private static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> NoMetadata = new Dictionary<string, IReadOnlyList<string>>();

    public static ClientInfo From(HttpContext context, bool includeMetadata)
    {
        var address = context.Connection.RemoteIpAddress?.ToString();
        if (!includeMetadata) return new ClientInfo(address, NoMetadata);

        var metadata = new Dictionary<string, IReadOnlyList<string>>(context.Request.Headers.Count);
        foreach (var (name, values) in context.Request.Headers)
        {
            if (name.StartsWith(':')) continue;
            var key = name.ToLowerInvariant();
            var list = new string[values.Count];
            for (var i = 0; i < list.Length; i++) list[i] = values[i] ?? "";
            metadata[key] = metadata.TryGetValue(key, out var existing) ? [.. existing, .. list] : list;
        }
        return new ClientInfo(address, metadata);
    }
}
