namespace OtelAi.Engine.Consumers;

/// <summary>
/// Who sent the data being consumed, like otelcol's client.Info: the peer address and, when the receiver has
/// <c>include_metadata: true</c>, its request headers (keys lower-case). It flows with the async call that carries
/// the data; components that hand data to another flow (batch, queues) carry it across explicitly.
/// </summary>
public sealed class ClientInfo
{
    public static ClientInfo Empty { get; } = new(null, new Dictionary<string, IReadOnlyList<string>>());

    public ClientInfo(string? address, IReadOnlyDictionary<string, IReadOnlyList<string>> metadata)
    {
        Address = address;
        Metadata = metadata;
    }

    public string? Address { get; }

    /// <summary>Header name (lower-case) → values.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Metadata { get; }

    /// <summary>First value of a metadata key (case-insensitive), or null.</summary>
    public string? GetFirst(string key) =>
        Metadata.TryGetValue(key.ToLowerInvariant(), out var values) && values.Count > 0 ? values[0] : null;
}

public static class ClientContext
{
    private static readonly AsyncLocal<ClientInfo?> CurrentInfo = new();

    /// <summary>The sender of the data on this async flow; <see cref="ClientInfo.Empty"/> when unknown.</summary>
    public static ClientInfo Current => CurrentInfo.Value ?? ClientInfo.Empty;

    /// <summary>Sets the sender for the rest of this async flow (restored when the caller's flow resumes).</summary>
    public static void Set(ClientInfo? info) => CurrentInfo.Value = info;
}
