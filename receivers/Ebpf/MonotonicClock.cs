using OtelAi.Receivers.Ebpf.Native;

namespace OtelAi.Receivers.Ebpf;

/// <summary>
/// Converts BPF timestamps (bpf_ktime_get_ns: CLOCK_MONOTONIC) to Unix nanoseconds with the offset
/// CLOCK_REALTIME − CLOCK_MONOTONIC, sampled with the smallest bracketing gap and refreshed so NTP steps show up.
/// </summary>
internal sealed class MonotonicClock
{
    private static readonly long RefreshTicks = TimeSpan.FromSeconds(10).Ticks;
    private long _offset;
    private long _sampledAt;
    private readonly bool _fixed;

    /// <summary>A live clock sampling the kernel.</summary>
    public MonotonicClock() => Refresh();

    /// <summary>A clock with a recorded offset (replay).</summary>
    public MonotonicClock(long realtimeMinusMonotonicNs)
    {
        _offset = realtimeMinusMonotonicNs;
        _fixed = true;
    }

    public long Offset => _offset;

    public static long SampleOffset()
    {
        long best = long.MaxValue, offset = 0;
        for (var i = 0; i < 5; i++)
        {
            var before = LibC.ClockNanoseconds(LibC.ClockMonotonic);
            var real = LibC.ClockNanoseconds(LibC.ClockRealtime);
            var after = LibC.ClockNanoseconds(LibC.ClockMonotonic);
            if (after - before >= best) continue;
            best = after - before;
            offset = real - (before + (after - before) / 2);
        }
        return offset;
    }

    private void Refresh()
    {
        _offset = SampleOffset();
        _sampledAt = Environment.TickCount64 * TimeSpan.TicksPerMillisecond;
    }

    public ulong ToUnixNanoseconds(ulong monotonicNs)
    {
        if (!_fixed && Environment.TickCount64 * TimeSpan.TicksPerMillisecond - _sampledAt > RefreshTicks) Refresh();
        return monotonicNs == 0 ? 0 : (ulong)((long)monotonicNs + _offset);
    }
}
