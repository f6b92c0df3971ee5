namespace OtelAi.Otlp.Protobuf;

/// <summary>
/// Sizes recorded by <see cref="OtlpProtobuf.Measure(Proto.Collector.Trace.V1.ExportTraceServiceRequest, SizeCache)"/>
/// for <see cref="OtlpProtobuf"/>'s write pass: one entry per nested message (its length prefix), per written string
/// (its UTF-8 byte count) and per packed varint field (its payload length), in the order the write pass meets them.
/// Measuring fills it in pre-order: a message reserves its entry, measures its fields, then completes the entry,
/// so the writer can read entries front to back without any lookups. Reusable: each Measure starts it afresh.
/// </summary>
internal sealed class SizeCache
{
    // A cache that grew past this for one huge request is dropped rather than kept alive by a thread or the pool.
    private const int KeepLimit = 1 << 20;

    [ThreadStatic] private static SizeCache? t_spare;

    private int[] _entries;
    private int _count;

    public SizeCache(int initialCapacity = 256) => _entries = new int[Math.Max(initialCapacity, 16)];

    /// <summary>Total serialized size of the request last measured into this cache.</summary>
    public int TotalSize { get; private set; }

    /// <summary>Number of entries recorded by the last measure.</summary>
    public int Count => _count;

    internal ReadOnlySpan<int> Entries => _entries.AsSpan(0, _count);

    /// <summary>Takes this thread's spare cache (or a new one); give it back with <see cref="Return"/>.</summary>
    public static SizeCache Rent()
    {
        var cache = t_spare;
        if (cache is null) return new SizeCache();
        t_spare = null;
        return cache;
    }

    /// <summary>Keeps <paramref name="cache"/> as this thread's spare unless it grew unusually large.</summary>
    public static void Return(SizeCache cache)
    {
        if (cache._entries.Length <= KeepLimit) t_spare = cache;
    }

    internal void Reset()
    {
        _count = 0;
        TotalSize = 0;
    }

    internal void Complete(int totalSize) => TotalSize = totalSize;

    /// <summary>Reserves the entry of a message whose size is known only after its fields are measured.</summary>
    internal int Reserve()
    {
        if (_count == _entries.Length) Array.Resize(ref _entries, _entries.Length * 2);
        return _count++;
    }

    /// <summary>Fills a reserved entry and returns <paramref name="size"/> for the caller's sum.</summary>
    internal int Set(int slot, int size)
    {
        _entries[slot] = size;
        return size;
    }

    /// <summary>Records a value that is known at once (a string's byte count, a packed field's length).</summary>
    internal int Add(int size)
    {
        if (_count == _entries.Length) Array.Resize(ref _entries, _entries.Length * 2);
        _entries[_count++] = size;
        return size;
    }
}
