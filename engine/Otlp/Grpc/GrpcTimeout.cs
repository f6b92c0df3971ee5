using System.Globalization;

namespace OtelAi.Otlp.Grpc;

/// <summary>
/// The <c>grpc-timeout</c> header: 1 to 8 ASCII digits followed by a unit, H (hours), M (minutes), S (seconds),
/// m (milliseconds), u (microseconds) or n (nanoseconds).
/// </summary>
internal static class GrpcTimeout
{
    private const long MaxValue = 99_999_999;

    /// <summary>The longest delay a CancellationTokenSource timer accepts.</summary>
    public static readonly TimeSpan LongestTimer = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    public static bool TryParse(ReadOnlySpan<char> value, out TimeSpan timeout)
    {
        timeout = default;
        if (value.Length is < 2 or > 9) return false;
        var digits = value[..^1];
        foreach (var c in digits)
            if (c is < '0' or > '9') return false;
        var amount = long.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);
        long? ticks = value[^1] switch
        {
            'H' => amount * TimeSpan.TicksPerHour,
            'M' => amount * TimeSpan.TicksPerMinute,
            'S' => amount * TimeSpan.TicksPerSecond,
            'm' => amount * TimeSpan.TicksPerMillisecond,
            'u' => amount * TimeSpan.TicksPerMicrosecond,
            'n' => amount / 100, // a tick is 100 ns
            _ => null,
        };
        if (ticks is null) return false;
        timeout = TimeSpan.FromTicks(ticks.Value);
        return true;
    }

    /// <summary>The most precise unit whose value fits in 8 digits (longer timeouts are capped at 99999999 hours).</summary>
    public static string Format(TimeSpan timeout)
    {
        var ticks = Math.Max(0, timeout.Ticks);
        if (ticks * 100 <= MaxValue && ticks <= long.MaxValue / 100) return Fmt(ticks * 100, 'n');
        if (ticks / TimeSpan.TicksPerMicrosecond <= MaxValue) return Fmt(CeilDiv(ticks, TimeSpan.TicksPerMicrosecond), 'u');
        if (ticks / TimeSpan.TicksPerMillisecond <= MaxValue) return Fmt(CeilDiv(ticks, TimeSpan.TicksPerMillisecond), 'm');
        if (ticks / TimeSpan.TicksPerSecond <= MaxValue) return Fmt(CeilDiv(ticks, TimeSpan.TicksPerSecond), 'S');
        if (ticks / TimeSpan.TicksPerMinute <= MaxValue) return Fmt(CeilDiv(ticks, TimeSpan.TicksPerMinute), 'M');
        return Fmt(Math.Min(MaxValue, CeilDiv(ticks, TimeSpan.TicksPerHour)), 'H');
    }

    // Rounding up keeps the deadline from being shortened by the unit change; it never pushes past 8 digits
    // because the coarser unit was only chosen when the finer one overflowed by a factor of at least 60.
    private static long CeilDiv(long value, long divisor) => Math.Min(MaxValue, value / divisor + (value % divisor != 0 ? 1 : 0));

    private static string Fmt(long value, char unit) => value.ToString(CultureInfo.InvariantCulture) + unit;
}
