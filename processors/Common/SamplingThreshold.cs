using System.Globalization;

namespace OtelAi.Processors.Common;

/// <summary>OpenTelemetry's consistent-probability sampling threshold, carried in W3C tracestate as <c>ot=th:T</c>.</summary>
public static class SamplingThreshold
{
    /// <summary>
    /// How many spans this one stands for: 1 / p for the threshold T (hexadecimal, up to 14 digits, right-padded;
    /// the rejection probability is T / 2^56), rounded; 1 without one or when it does not parse.
    /// </summary>
    public static ulong Weight(string traceState)
    {
        if (traceState.Length == 0) return 1;
        foreach (var member in traceState.Split(','))
        {
            var entry = member.Trim();
            if (!entry.StartsWith("ot=", StringComparison.Ordinal)) continue;
            foreach (var field in entry[3..].Split(';'))
            {
                if (!field.StartsWith("th:", StringComparison.Ordinal)) continue;
                var hex = field[3..];
                if (hex.Length is 0 or > 14 || !ulong.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var threshold)) return 1;
                threshold <<= 4 * (14 - hex.Length);
                const double full = 72057594037927936d; // 2^56
                return threshold >= 1UL << 56 ? 1 : (ulong)Math.Max(1, Math.Round(full / (full - threshold)));
            }
        }
        return 1;
    }
}
