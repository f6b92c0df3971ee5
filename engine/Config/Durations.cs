using System.Globalization;
using System.Text;

namespace OtelAi.Engine.Config;

/// <summary>
/// Go's duration syntax, which otelcol configs use: a sequence of decimal numbers with units
/// (<c>ns</c>, <c>us</c>/<c>µs</c>, <c>ms</c>, <c>s</c>, <c>m</c>, <c>h</c>), e.g. <c>200ms</c>, <c>1m30s</c>, <c>1.5h</c>,
/// an optional sign, and <c>0</c> alone. TimeSpan counts 100 ns ticks, so sub-tick nanoseconds are truncated.
/// </summary>
public static class Durations
{
    /// <summary>Regex for the JSON schema: the same syntax as <see cref="TryParse"/>.</summary>
    public const string Pattern = @"^([-+]?(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+))$";

    private static readonly (string Unit, double Nanoseconds)[] Units =
    [
        ("ns", 1), ("us", 1e3), ("µs", 1e3), ("μs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 6e10), ("h", 3.6e12),
    ];

    public static bool TryParse(string text, out TimeSpan duration)
    {
        var parsed = TryParseNanoseconds(text, out var nanoseconds);
        duration = parsed ? TimeSpan.FromTicks(nanoseconds / 100) : default;
        return parsed;
    }

    /// <summary>As <see cref="TryParse"/>, to the nanosecond (Go's time.Duration; OTTL's durations), within ±292 years.</summary>
    public static bool TryParseNanoseconds(string text, out long nanoseconds)
    {
        nanoseconds = 0;
        var s = text.AsSpan();
        var negative = false;
        if (s.Length > 0 && (s[0] == '-' || s[0] == '+')) { negative = s[0] == '-'; s = s[1..]; }
        if (s is "0") return true;
        if (s.IsEmpty) return false;
        double total = 0;
        while (!s.IsEmpty)
        {
            var numberLength = 0;
            while (numberLength < s.Length && (char.IsAsciiDigit(s[numberLength]) || s[numberLength] == '.')) numberLength++;
            if (numberLength == 0 || !double.TryParse(s[..numberLength], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
                return false;
            s = s[numberLength..];
            var unitLength = 0;
            while (unitLength < s.Length && !char.IsAsciiDigit(s[unitLength]) && s[unitLength] != '.') unitLength++;
            var unit = s[..unitLength].ToString();
            var factor = Array.Find(Units, u => u.Unit == unit).Nanoseconds;
            if (factor == 0) return false;
            total += number * factor;
            s = s[unitLength..];
        }
        if (total >= long.MaxValue) return false;
        nanoseconds = (long)(negative ? -total : total);
        return true;
    }

    /// <summary>The shortest Go-style text for <paramref name="duration"/>: <c>200ms</c>, <c>1m30s</c>, <c>0s</c>.</summary>
    public static string Format(TimeSpan duration)
    {
        if (duration == TimeSpan.Zero) return "0s";
        var builder = new StringBuilder();
        if (duration < TimeSpan.Zero) { builder.Append('-'); duration = duration.Negate(); }
        var ticks = duration.Ticks;
        void Part(long unitTicks, string unit)
        {
            var count = ticks / unitTicks;
            if (count == 0) return;
            builder.Append(count).Append(unit);
            ticks -= count * unitTicks;
        }
        Part(TimeSpan.TicksPerHour, "h");
        Part(TimeSpan.TicksPerMinute, "m");
        Part(TimeSpan.TicksPerSecond, "s");
        Part(TimeSpan.TicksPerMillisecond, "ms");
        Part(10, "us");
        if (ticks > 0) builder.Append(ticks * 100).Append("ns");
        return builder.ToString();
    }
}
