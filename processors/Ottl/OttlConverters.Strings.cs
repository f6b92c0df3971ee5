using System.Globalization;
using System.Net;
using System.Text;
using Google.Protobuf.Collections;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Common.V1;

namespace OtelAi.Processors.Ottl;

/// <summary>otelcol's ottlfuncs converters for strings, maps, numbers, durations and times (the README's semantics).</summary>
internal static partial class OttlFunctions
{
    private static void RegisterStringAndTimeConverters()
    {
        OfTwoStrings("HasPrefix", "prefix", (value, prefix) => OttlValue.Of(value.StartsWith(prefix, StringComparison.Ordinal)));
        OfTwoStrings("HasSuffix", "suffix", (value, suffix) => OttlValue.Of(value.EndsWith(suffix, StringComparison.Ordinal)));
        OfTwoStrings("TrimPrefix", "prefix", (value, prefix) => OttlValue.Of(value.StartsWith(prefix, StringComparison.Ordinal) ? value[prefix.Length..] : value));
        OfTwoStrings("TrimSuffix", "suffix", (value, suffix) => OttlValue.Of(value.EndsWith(suffix, StringComparison.Ordinal) ? value[..^suffix.Length] : value));

        // Go's strings.Trim: every leading and trailing character found in the cutset (default a space).
        Converter("Trim", ["target", "replacement"], 1, a =>
        {
            var target = a.Getter(0);
            var cutset = a.Has(1) ? a.Getter(1) : null;
            return ctx =>
            {
                var value = RequireString(target(ctx), "Trim target");
                var characters = cutset is null ? " " : RequireString(cutset(ctx), "Trim replacement");
                return OttlValue.Of(value.Trim(characters.ToCharArray()));
            };
        });

        // The index of the first occurrence: a byte offset in a string (as Go's strings.Index), an element of a list
        // compared by the language's equality rules; -1 when absent.
        Converter("Index", ["target", "value"], 2, a =>
        {
            var target = a.Getter(0);
            var value = a.Getter(1);
            return ctx =>
            {
                var t = target(ctx);
                var v = value(ctx);
                switch (t.Type)
                {
                    case OttlType.String:
                        var at = t.String.IndexOf(RequireString(v, "Index value"), StringComparison.Ordinal);
                        return OttlValue.Of(at < 0 ? -1L : Encoding.UTF8.GetByteCount(t.String.AsSpan(0, at)));
                    case OttlType.List:
                        for (var i = 0; i < t.List.Count; i++)
                            if (Operators.Compare(OttlValue.FromAny(t.List[i]), v, CompareOp.Eq)) return OttlValue.Of((long)i);
                        return OttlValue.Of(-1L);
                    default:
                        throw new OttlRuntimeException($"Index: target must be a string or a list but got {t.TypeName}");
                }
            };
        });

        Converter("IsEmpty", ["value"], 1, a =>
        {
            var value = a.Getter(0);
            return ctx =>
            {
                var v = value(ctx);
                return OttlValue.Of(v.Type switch
                {
                    OttlType.Nil => true,
                    OttlType.String => v.String.Length == 0,
                    OttlType.Int or OttlType.Time or OttlType.Duration => v.Int == 0,
                    OttlType.Double => v.Double == 0,
                    OttlType.Bool => !v.Bool,
                    OttlType.Bytes => v.Bytes.Length == 0 || v.Bytes.Span.IndexOfAnyExcept((byte)0) < 0,
                    OttlType.Map => v.Map.Count == 0,
                    OttlType.List => v.List.Count == 0,
                    _ => false,
                });
            };
        });

        Converter("Keys", ["target"], 1, a =>
        {
            var target = a.Getter(0);
            return ctx =>
            {
                var map = MapOf(target(ctx), "Keys") ?? throw new OttlRuntimeException("Keys: target is nil");
                var keys = new RepeatedField<AnyValue>();
                foreach (var entry in map) keys.Add(Attributes.String(entry.Key));
                return OttlValue.Of(keys);
            };
        });

        Converter("Values", ["target"], 1, a =>
        {
            var target = a.Getter(0);
            return ctx =>
            {
                var map = MapOf(target(ctx), "Values") ?? throw new OttlRuntimeException("Values: target is nil");
                var values = new RepeatedField<AnyValue>();
                foreach (var entry in map) values.Add(entry.Value?.Clone() ?? new AnyValue());
                return OttlValue.Of(values);
            };
        });

        Converter("Log", ["value"], 1, a =>
        {
            var value = a.Getter(0);
            return ctx =>
            {
                var v = value(ctx);
                var number = v.Type switch
                {
                    OttlType.Double => v.Double,
                    OttlType.Int => v.Int,
                    OttlType.Bool => v.Bool ? 1 : 0,
                    OttlType.String when double.TryParse(v.String, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
                    _ => throw new OttlRuntimeException($"Log: cannot take the logarithm of {v.TypeName} {v}"),
                };
                return number > 0 ? OttlValue.Of(Math.Log(number)) : throw new OttlRuntimeException($"Log: {number} is not greater than zero");
            };
        });

        Converter("IsValidLuhn", ["value"], 1, a =>
        {
            var value = a.Getter(0);
            return ctx =>
            {
                var v = value(ctx);
                var digits = v.Type switch
                {
                    OttlType.Int => v.Int.ToString(CultureInfo.InvariantCulture),
                    OttlType.String when v.String.Length > 0 && v.String.All(char.IsAsciiDigit) => v.String,
                    _ => throw new OttlRuntimeException($"IsValidLuhn: expects a string of digits or an int but got {v.TypeName} {v}"),
                };
                var sum = 0;
                for (var i = 0; i < digits.Length; i++)
                {
                    var digit = digits[digits.Length - 1 - i] - '0';
                    if (i % 2 == 1) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
                    sum += digit;
                }
                return OttlValue.Of(sum % 10 == 0);
            };
        });

        Converter("ParseInt", ["target", "base"], 2, a =>
        {
            var target = a.Getter(0);
            var numberBase = a.Getter(1);
            return ctx =>
            {
                var text = RequireString(target(ctx), "ParseInt target");
                var b = numberBase(ctx);
                if (b.Type != OttlType.Int || b.Int < 0 || b.Int == 1 || b.Int > 36) throw new OttlRuntimeException($"ParseInt: base must be 0 or 2 to 36, got {b}");
                return OttlValue.Of(GoParseInt(text, (int)b.Int));
            };
        });

        Converter("IsInCIDR", ["target", "networks"], 2, a =>
        {
            var target = a.Getter(0);
            var networks = a.Strings(1).Select(n => IPNetwork.TryParse(n, out var network) ? network : throw a.Error(1, $"\"{n}\" is not a CIDR network")).ToArray();
            return ctx =>
            {
                var v = target(ctx);
                if (v.IsNil) return OttlValue.False;
                return OttlValue.Of(IPAddress.TryParse(RequireString(v, "IsInCIDR target"), out var address) && networks.Any(n => n.Contains(address)));
            };
        });

        // Durations: Go's time.ParseDuration ("1h30m", "250ms", "-1.5h"), as config durations are read.
        Converter("Duration", ["duration"], 1, a =>
        {
            var text = a.Getter(0);
            return ctx =>
            {
                var duration = RequireString(text(ctx), "Duration");
                return Engine.Config.Durations.TryParseNanoseconds(duration, out var nanoseconds)
                    ? OttlValue.DurationOf(nanoseconds)
                    : throw new OttlRuntimeException($"Duration: invalid duration \"{duration}\"");
            };
        });
        DurationPart("Hours", nanos => OttlValue.Of(nanos / 3.6e12));
        DurationPart("Minutes", nanos => OttlValue.Of(nanos / 6e10));
        DurationPart("Seconds", nanos => OttlValue.Of(nanos / 1e9));
        DurationPart("Milliseconds", nanos => OttlValue.Of(nanos / 1_000_000));
        DurationPart("Microseconds", nanos => OttlValue.Of(nanos / 1_000));
        DurationPart("Nanoseconds", OttlValue.Of);

        // Time components, in UTC (the engine's clock; telemetry times are UTC).
        TimePart("Year", t => t.Year);
        TimePart("Month", t => t.Month);
        TimePart("Day", t => t.Day);
        TimePart("Hour", t => t.Hour);
        TimePart("Minute", t => t.Minute);
        TimePart("Second", t => t.Second);
        TimePart("Weekday", t => (int)t.DayOfWeek);
        Converter("Nanosecond", ["value"], 1, a =>
        {
            var value = a.Getter(0);
            return ctx => OttlValue.Of(RequireTime(value(ctx), "Nanosecond") % 1_000_000_000 is var n && n < 0 ? n + 1_000_000_000 : n);
        });
    }

    /// <summary>A converter of a string value and a second string argument; either not being a string is an error.</summary>
    private static void OfTwoStrings(string name, string second, Func<string, string, OttlValue> convert) =>
        Converter(name, ["value", second], 2, a =>
        {
            var value = a.Getter(0);
            var argument = a.Getter(1);
            return ctx => convert(RequireString(value(ctx), $"{name} value"), RequireString(argument(ctx), $"{name} {second}"));
        });

    private static void DurationPart(string name, Func<long, OttlValue> part) =>
        Converter(name, ["value"], 1, a =>
        {
            var value = a.Getter(0);
            return ctx =>
            {
                var v = value(ctx);
                return v.Type == OttlType.Duration ? part(v.Int) : throw new OttlRuntimeException($"{name}: expects a duration but got {v.TypeName}");
            };
        });

    private static void TimePart(string name, Func<DateTime, int> part) =>
        Converter(name, ["value"], 1, a =>
        {
            var value = a.Getter(0);
            return ctx => OttlValue.Of((long)part(DateTime.UnixEpoch.AddTicks(RequireTime(value(ctx), name) / 100)));
        });

    private static long RequireTime(in OttlValue value, string function) =>
        value.Type == OttlType.Time ? value.Int : throw new OttlRuntimeException($"{function}: expects a time but got {value.TypeName}");

    /// <summary>Go's strconv.ParseInt: an optional sign, digits of the base; base 0 reads 0b/0o/0/0x prefixes and allows underscores.</summary>
    private static long GoParseInt(string text, int numberBase)
    {
        var s = text.AsSpan();
        var negative = false;
        if (s.Length > 0 && s[0] is '+' or '-')
        {
            negative = s[0] == '-';
            s = s[1..];
        }
        var underscores = false;
        if (numberBase == 0)
        {
            numberBase = 10;
            underscores = true;
            if (s.Length > 1 && s[0] == '0')
            {
                numberBase = char.ToLowerInvariant(s[1]) switch { 'b' => 2, 'o' => 8, 'x' => 16, _ => 8 };
                s = s[(char.IsAsciiDigit(s[1]) || s[1] == '_' ? 1 : 2)..];
            }
        }
        if (s.IsEmpty) throw new OttlRuntimeException($"ParseInt: \"{text}\" is not an integer");
        ulong magnitude = 0;
        foreach (var c in s)
        {
            if (c == '_' && underscores) continue;
            var digit = c switch
            {
                >= '0' and <= '9' => c - '0',
                >= 'a' and <= 'z' => c - 'a' + 10,
                >= 'A' and <= 'Z' => c - 'A' + 10,
                _ => 99,
            };
            if (digit >= numberBase) throw new OttlRuntimeException($"ParseInt: \"{text}\" is not an integer in base {numberBase}");
            magnitude = checked(magnitude * (ulong)numberBase + (ulong)digit);
            if (magnitude > (negative ? 9223372036854775808UL : long.MaxValue)) throw new OttlRuntimeException($"ParseInt: \"{text}\" is out of range");
        }
        return negative ? (long)(0 - magnitude) : (long)magnitude;
    }
}
