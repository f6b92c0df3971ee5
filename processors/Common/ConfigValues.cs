using System.Globalization;
using System.Text.RegularExpressions;
using OtelAi.Engine.Config;
using OtelAi.Otlp.Proto.Common.V1;

namespace OtelAi.Processors.Common;

/// <summary>Turns free-form config values into OTLP values, typed the way YAML typed them in otelcol.</summary>
public static partial class ConfigValues
{
    /// <summary>
    /// A YAML scalar as the YAML 1.2 core schema types it (what otelcol's decoder does): true/false → bool, integers
    /// (also 0x/0o) → int, decimals/exponents/.inf/.nan → double, everything else → string. A map becomes a kvlist and
    /// a sequence an array. Quoted scalars ("123") stay strings.
    /// </summary>
    public static AnyValue? ToAnyValue(ConfigValue? value) => value switch
    {
        null or ConfigValue.Scalar { Value: null } => null,
        ConfigValue.Scalar { Quoted: true } s => new AnyValue { StringValue = s.Value },
        ConfigValue.Scalar s => TypedScalar(s.Value!),
        ConfigValue.Map m => new AnyValue
        {
            KvlistValue = new KeyValueList
            {
                Values = { m.Entries.Select(e => new KeyValue { Key = e.Key, Value = ToAnyValue(e.Value) ?? new AnyValue() }) },
            },
        },
        ConfigValue.Sequence q => new AnyValue
        {
            ArrayValue = new ArrayValue { Values = { q.Items.Select(i => ToAnyValue(i) ?? new AnyValue()) } },
        },
        _ => null,
    };

    public static AnyValue TypedScalar(string text)
    {
        switch (text)
        {
            case "true" or "True" or "TRUE": return new AnyValue { BoolValue = true };
            case "false" or "False" or "FALSE": return new AnyValue { BoolValue = false };
            case ".inf" or ".Inf" or ".INF" or "+.inf": return new AnyValue { DoubleValue = double.PositiveInfinity };
            case "-.inf" or "-.Inf" or "-.INF": return new AnyValue { DoubleValue = double.NegativeInfinity };
            case ".nan" or ".NaN" or ".NAN": return new AnyValue { DoubleValue = double.NaN };
        }
        if (IntPattern().IsMatch(text) && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var i))
            return new AnyValue { IntValue = i };
        if (text.StartsWith("0x", StringComparison.Ordinal) && long.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hex))
            return new AnyValue { IntValue = hex };
        if (text.StartsWith("0o", StringComparison.Ordinal) && TryParseOctal(text.AsSpan(2), out var oct))
            return new AnyValue { IntValue = oct };
        if (FloatPattern().IsMatch(text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
            return new AnyValue { DoubleValue = d };
        return new AnyValue { StringValue = text };
    }

    private static bool TryParseOctal(ReadOnlySpan<char> digits, out long value)
    {
        value = 0;
        if (digits.IsEmpty) return false;
        foreach (var c in digits)
        {
            if (c is < '0' or > '7') return false;
            value = value * 8 + (c - '0');
        }
        return true;
    }

    [GeneratedRegex("^[-+]?[0-9]+$")]
    private static partial Regex IntPattern();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex FloatPattern();
}

/// <summary>Regular expressions written for otelcol (Go RE2 syntax) compiled for .NET.</summary>
public static class GoRegex
{
    /// <summary>
    /// Compiles an RE2 pattern: Go's <c>(?P&lt;name&gt;…)</c> group syntax becomes .NET's <c>(?&lt;name&gt;…)</c>;
    /// the rest of RE2's syntax means the same in .NET. Throws <see cref="ArgumentException"/> for a bad pattern.
    /// </summary>
    public static Regex Compile(string pattern) =>
        new(Translate(pattern), RegexOptions.CultureInvariant | RegexOptions.Compiled);

    public static string Translate(string pattern)
    {
        if (!pattern.Contains("(?P<", StringComparison.Ordinal)) return pattern;
        var sb = new System.Text.StringBuilder(pattern.Length);
        for (var i = 0; i < pattern.Length; i++)
        {
            if (pattern[i] == '\\' && i + 1 < pattern.Length)
            {
                sb.Append(pattern, i, 2);
                i++;
                continue;
            }
            if (string.CompareOrdinal(pattern, i, "(?P<", 0, 4) == 0)
            {
                sb.Append("(?<");
                i += 3;
                continue;
            }
            sb.Append(pattern[i]);
        }
        return sb.ToString();
    }

    /// <summary>Compiles or explains why not, for config validation.</summary>
    public static bool TryCompile(string pattern, out Regex? regex, out string? error)
    {
        try
        {
            regex = Compile(pattern);
            error = null;
            return true;
        }
        catch (ArgumentException ex)
        {
            regex = null;
            error = ex.Message;
            return false;
        }
    }
}
