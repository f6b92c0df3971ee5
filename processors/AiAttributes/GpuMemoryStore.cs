namespace OtelAi.Processors.AiAttributes;

/// <summary>
/// Newest GPU memory reading per host/pod (join key) and GPU, written by the metrics pipeline and read by trace
/// pipelines. Readers take no lock: each join key holds an immutable array swapped atomically by writers.
/// </summary>
public sealed class GpuMemoryStore(TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Slot> _slots = new(StringComparer.Ordinal);

    public int Count => _slots.Count;

    public void Record(string joinKey, string gpuId, long mib, ulong pointTimeUnixNano)
    {
        var slot = _slots.GetOrAdd(joinKey, static _ => new Slot());
        var reading = new Reading(gpuId, mib, pointTimeUnixNano, _time.GetTimestamp());
        while (true)
        {
            var current = slot.Readings;
            var index = Array.FindIndex(current, r => r.GpuId == gpuId);
            // An older point arriving late must not replace a newer one.
            if (index >= 0 && current[index].PointTimeUnixNano > pointTimeUnixNano) return;
            var next = index >= 0 ? (Reading[])current.Clone() : [.. current, reading];
            if (index >= 0) next[index] = reading;
            if (Interlocked.CompareExchange(ref slot.Readings, next, current) == current) return;
        }
    }

    /// <summary>The reading of <paramref name="gpuId"/>, or the sum of all fresh GPUs of the key when no GPU is named.</summary>
    public long? Lookup(string joinKey, string? gpuId, TimeSpan maxAge)
    {
        if (!_slots.TryGetValue(joinKey, out var slot)) return null;
        var readings = Volatile.Read(ref slot.Readings);
        long sum = 0;
        var found = false;
        foreach (var r in readings)
        {
            if (_time.GetElapsedTime(r.ReceivedTimestamp) > maxAge) continue;
            if (gpuId is not null)
            {
                if (r.GpuId == gpuId) return r.MiB;
                continue;
            }
            sum += r.MiB;
            found = true;
        }
        return found ? sum : null;
    }

    private sealed class Slot
    {
        public Reading[] Readings = [];
    }

    private sealed record Reading(string GpuId, long MiB, ulong PointTimeUnixNano, long ReceivedTimestamp);
}
