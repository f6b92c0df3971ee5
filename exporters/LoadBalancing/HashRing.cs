namespace OtelAi.Exporters.LoadBalancing;

/// <summary>
/// Consistent hashing with virtual nodes: each backend owns <see cref="VirtualNodes"/> points on a 32-bit ring and a
/// key goes to the first point at or after its hash, so adding or removing one of N backends moves about 1/N of the
/// keys. Immutable: a change of backends builds a new ring.
/// </summary>
internal sealed class HashRing
{
    public const int VirtualNodes = 150;

    private readonly uint[] _points;
    private readonly string[] _owners;

    public HashRing(IReadOnlyCollection<string> backends)
    {
        Backends = [.. backends.Distinct().Order(StringComparer.Ordinal)];
        var points = new List<(uint Point, string Owner)>(Backends.Count * VirtualNodes);
        foreach (var backend in Backends)
            for (var i = 0; i < VirtualNodes; i++)
                points.Add((Hash(System.Text.Encoding.UTF8.GetBytes($"{backend}#{i}")), backend));
        points.Sort((a, b) => a.Point != b.Point ? a.Point.CompareTo(b.Point) : string.CompareOrdinal(a.Owner, b.Owner));
        _points = [.. points.Select(p => p.Point)];
        _owners = [.. points.Select(p => p.Owner)];
    }

    public IReadOnlyList<string> Backends { get; }

    /// <summary>The backend of <paramref name="key"/>; null when the ring is empty.</summary>
    public string? Owner(ReadOnlySpan<byte> key)
    {
        if (_points.Length == 0) return null;
        var at = Array.BinarySearch(_points, Hash(key));
        if (at < 0) at = ~at;
        return _owners[at == _points.Length ? 0 : at];
    }

    /// <summary>FNV-1a (32-bit) with a final avalanche, so nearby keys and points spread over the ring.</summary>
    internal static uint Hash(ReadOnlySpan<byte> data)
    {
        var hash = 2166136261u;
        foreach (var b in data) hash = (hash ^ b) * 16777619u;
        hash ^= hash >> 16;
        hash *= 0x85EBCA6B;
        hash ^= hash >> 13;
        hash *= 0xC2B2AE35;
        hash ^= hash >> 16;
        return hash;
    }
}
