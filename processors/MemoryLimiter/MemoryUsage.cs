using System.Globalization;
using System.Runtime;

namespace OtelAi.Processors.MemoryLimiter;

/// <summary>How the limiter measures memory and collects garbage; replaced in unit tests.</summary>
public interface IMemoryProbe
{
    /// <summary>Bytes in use now.</summary>
    long UsedBytes();

    /// <summary>Full, compacting collection; returns when done.</summary>
    void Collect();
}

/// <summary>
/// Measures the managed heap: GC.GetTotalMemory(false) counts every byte allocated and not yet collected, live or
/// garbage, like Go's MemStats.Alloc that otelcol compares against its limits. All telemetry the engine holds lives
/// there, and a forced collection shrinks it at once, so the limiter both sees a flood and sees its own recovery.
/// RSS (/proc/self/statm) was not chosen: the GC keeps freed segments committed for reuse, so RSS often stays high
/// after a collection and the limiter would keep refusing long after the pressure is gone.
/// </summary>
public sealed class GcHeapProbe : IMemoryProbe
{
    public static GcHeapProbe Instance { get; } = new();

    public long UsedBytes() => GC.GetTotalMemory(forceFullCollection: false);

    public void Collect()
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
    }
}

/// <summary>Total memory available to the process, for the percentage limits.</summary>
public static class TotalMemory
{
    /// <summary>The cgroup (v2, then v1) memory limit when one is set, else physical memory (/proc/meminfo), else the GC's view.</summary>
    public static long Read()
    {
        if (ReadCgroupLimit("/sys/fs/cgroup/memory.max") is { } v2) return v2;
        if (ReadCgroupLimit("/sys/fs/cgroup/memory/memory.limit_in_bytes") is { } v1) return v1;
        if (ReadMemInfoTotal() is { } physical) return physical;
        return GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
    }

    private static long? ReadCgroupLimit(string path)
    {
        try
        {
            if (!File.Exists(path)) return null;
            var text = File.ReadAllText(path).Trim();
            // "max" (v2) or a near-2^63 page-rounded value (v1) both mean no limit.
            if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var bytes) || bytes >= long.MaxValue / 2) return null;
            var physical = ReadMemInfoTotal();
            return physical is { } p && bytes > p ? null : bytes;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    private static long? ReadMemInfoTotal()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
            {
                if (!line.StartsWith("MemTotal:", StringComparison.Ordinal)) continue;
                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return long.Parse(parts[1], CultureInfo.InvariantCulture) * 1024;
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return null;
    }
}
