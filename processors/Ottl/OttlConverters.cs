using System.Globalization;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.Collections;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Common.V1;

namespace OtelAi.Processors.Ottl;

/// <summary>otelcol's ottlfuncs converters.</summary>
internal static partial class OttlFunctions
{
    private static void RegisterConverters()
    {
        Converter("Concat", ["vals", "delimiter"], 2, a =>
        {
            var values = ListItems(a, 0);
            var delimiter = a.Getter(1);
            return ctx =>
            {
                var separator = RequireString(delimiter(ctx), "Concat delimiter");
                var builder = new StringBuilder();
                for (var i = 0; i < values.Length; i++)
                {
                    if (i > 0) builder.Append(separator);
                    var v = values[i](ctx);
                    builder.Append(v.IsNil ? "<nil>" : StringLike(v));
                }
                return OttlValue.Of(builder.ToString());
            };
        });

        Converter("ParseJSON", ["target"], 1, a =>
        {
            var target = a.Getter(0);
            return ctx =>
            {
                var text = RequireString(target(ctx), "ParseJSON target");
                try
                {
                    using var document = JsonDocument.Parse(text);
                    return document.RootElement.ValueKind switch
                    {
                        JsonValueKind.Object => OttlValue.Of(JsonMap(document.RootElement)),
                        JsonValueKind.Array => OttlValue.Of(JsonList(document.RootElement)),
                        var kind => throw new OttlRuntimeException($"ParseJSON expects a JSON object or array, got {kind.ToString().ToLowerInvariant()}"),
                    };
                }
                catch (JsonException e)
                {
                    throw new OttlRuntimeException($"ParseJSON: invalid JSON: {e.Message}");
                }
            };
        });

        Converter("IsMatch", ["target", "pattern"], 2, a =>
        {
            var target = a.Getter(0);
            var pattern = a.Regex(1);
            return ctx =>
            {
                var v = target(ctx);
                return OttlValue.Of(!v.IsNil && pattern.IsMatch(StringLike(v)));
            };
        });

        Converter("Int", ["value"], 1, a =>
        {
            var value = a.Getter(0);
            return ctx =>
            {
                var v = value(ctx);
                return v.Type switch
                {
                    OttlType.Int => v,
                    OttlType.Double => OttlValue.Of((long)v.Double),
                    OttlType.Bool => OttlValue.Of(v.Bool ? 1L : 0L),
                    OttlType.String => long.TryParse(v.String, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? OttlValue.Of(n) : OttlValue.Nil,
                    _ => OttlValue.Nil,
                };
            };
        });

        Converter("Double", ["value"], 1, a =>
        {
            var value = a.Getter(0);
            return ctx =>
            {
                var v = value(ctx);
                return v.Type switch
                {
                    OttlType.Double => v,
                    OttlType.Int => OttlValue.Of((double)v.Int),
                    OttlType.Bool => OttlValue.Of(v.Bool ? 1.0 : 0.0),
                    OttlType.String => double.TryParse(v.String, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? OttlValue.Of(d) : OttlValue.Nil,
                    _ => OttlValue.Nil,
                };
            };
        });

        Converter("String", ["value"], 1, a =>
        {
            var value = a.Getter(0);
            return ctx =>
            {
                var v = value(ctx);
                return v.IsNil ? v : OttlValue.Of(StringLike(v));
            };
        });

        Converter("Split", ["target", "delimiter"], 2, a =>
        {
            var target = a.Getter(0);
            var delimiter = a.String(1);
            return ctx =>
            {
                var v = target(ctx);
                if (v.IsNil) return v;
                var list = new RepeatedField<AnyValue>();
                foreach (var part in RequireString(v, "Split target").Split(delimiter)) list.Add(Attributes.String(part));
                return OttlValue.Of(list);
            };
        });

        Converter("Substring", ["target", "start", "length"], 3, a =>
        {
            var target = a.Getter(0);
            var start = a.Getter(1);
            var length = a.Getter(2);
            return ctx =>
            {
                var text = RequireString(target(ctx), "Substring target");
                var from = start(ctx);
                var count = length(ctx);
                if (from.Type != OttlType.Int || count.Type != OttlType.Int) throw new OttlRuntimeException("Substring start and length must be ints");
                if (from.Int < 0 || count.Int <= 0 || from.Int + count.Int > text.Length)
                    throw new OttlRuntimeException($"Substring: invalid range start {from.Int} length {count.Int} for a string of length {text.Length}");
                return OttlValue.Of(text.Substring((int)from.Int, (int)count.Int));
            };
        });

        StringConverter("ToLowerCase", s => s.ToLowerInvariant());
        StringConverter("ToUpperCase", s => s.ToUpperInvariant());
        StringConverter("SHA1", Hashing.Sha1);
        StringConverter("SHA256", Hashing.Sha256);
        StringConverter("SHA512", Hashing.Sha512);
        StringConverter("MD5", Hashing.Md5);

        Converter("FNV", ["value"], 1, a =>
        {
            var value = a.Getter(0);
            return ctx => OttlValue.Of(Hashing.Fnv(RequireString(value(ctx), "FNV value")));
        });

        Converter("Len", ["target"], 1, a =>
        {
            var target = a.Getter(0);
            return ctx =>
            {
                var v = target(ctx);
                return OttlValue.Of(v.Type switch
                {
                    OttlType.String => (long)v.String.EnumerateRunes().Count(),
                    OttlType.Map => v.Map.Count,
                    OttlType.List => v.List.Count,
                    OttlType.Bytes => v.Bytes.Length,
                    _ => throw new OttlRuntimeException($"Len: a {v.TypeName} has no length"),
                });
            };
        });

        TypeTest("IsString", OttlType.String);
        TypeTest("IsInt", OttlType.Int);
        TypeTest("IsDouble", OttlType.Double);
        TypeTest("IsBool", OttlType.Bool);
        TypeTest("IsMap", OttlType.Map);
        TypeTest("IsList", OttlType.List);

        Converter("Now", [], 0, _ => _ => OttlValue.TimeOf(UnixNanosNow()));
        TimeConverter("UnixNano", 1);
        TimeConverter("UnixMicro", 1_000);
        TimeConverter("UnixMilli", 1_000_000);
        TimeConverter("UnixSeconds", 1_000_000_000);

        Converter("Unix", ["seconds", "nanoseconds"], 1, a =>
        {
            var seconds = a.Getter(0);
            var nanos = a.Has(1) ? a.Getter(1) : null;
            return ctx =>
            {
                var s = seconds(ctx);
                var n = nanos?.Invoke(ctx) ?? OttlValue.Of(0L);
                if (s.Type != OttlType.Int || n.Type != OttlType.Int) throw new OttlRuntimeException("Unix seconds and nanoseconds must be ints");
                return OttlValue.TimeOf(s.Int * 1_000_000_000L + n.Int);
            };
        });

        Converter("Time", ["time", "format", "location", "locale"], 2, a =>
        {
            var time = a.Getter(0);
            var format = StrptimeToDotNet(a, 1);
            var zone = a.Has(2) ? FindZone(a, 2) : TimeZoneInfo.Utc;
            return ctx =>
            {
                var text = RequireString(time(ctx), "Time target");
                var styles = DateTimeStyles.AllowWhiteSpaces | (format.HasZone ? DateTimeStyles.None : DateTimeStyles.AssumeUniversal);
                if (!DateTimeOffset.TryParseExact(text, format.Format, CultureInfo.InvariantCulture, styles, out var parsed))
                    throw new OttlRuntimeException($"Time: \"{text}\" does not match format \"{format.Original}\"");
                if (!format.HasZone) parsed = new DateTimeOffset(parsed.DateTime, zone.GetUtcOffset(parsed.DateTime));
                return OttlValue.TimeOf((parsed.UtcTicks - DateTimeOffset.UnixEpoch.Ticks) * 100);
            };
        });

        IdConverter("TraceID", 16);
        IdConverter("SpanID", 8);

        Converter("Hex", ["value"], 1, a =>
        {
            var value = a.Getter(0);
            return ctx =>
            {
                var v = value(ctx);
                return OttlValue.Of(v.Type switch
                {
                    OttlType.Bytes => Convert.ToHexStringLower(v.Bytes.Span),
                    OttlType.String => Convert.ToHexStringLower(Encoding.UTF8.GetBytes(v.String)),
                    OttlType.Int => v.Int.ToString("x16", CultureInfo.InvariantCulture),
                    OttlType.Double => BitConverter.DoubleToInt64Bits(v.Double).ToString("x16", CultureInfo.InvariantCulture),
                    OttlType.Bool => v.Bool ? "01" : "00",
                    _ => throw new OttlRuntimeException($"Hex: cannot encode a {v.TypeName}"),
                });
            };
        });
    }

    private static void StringConverter(string name, Func<string, string> convert) =>
        Converter(name, ["value"], 1, a =>
        {
            var value = a.Getter(0);
            return ctx =>
            {
                var v = value(ctx);
                return v.IsNil ? v : OttlValue.Of(convert(RequireString(v, name + " value")));
            };
        });

    private static void TypeTest(string name, OttlType type) =>
        Converter(name, ["value"], 1, a =>
        {
            var value = a.Getter(0);
            return ctx => OttlValue.Of(value(ctx).Type == type);
        });

    private static void TimeConverter(string name, long nanosPerUnit) =>
        Converter(name, ["time"], 1, a =>
        {
            var time = a.Getter(0);
            return ctx =>
            {
                var v = time(ctx);
                return v.Type == OttlType.Time
                    ? OttlValue.Of(Math.DivRem(v.Int, nanosPerUnit) is var (q, r) && r < 0 ? q - 1 : q)
                    : throw new OttlRuntimeException($"{name} expects a time but got {v.TypeName}");
            };
        });

    private static void IdConverter(string name, int length) =>
        Converter(name, ["bytes"], 1, a =>
        {
            var bytes = a.Getter(0);
            return ctx =>
            {
                var v = bytes(ctx);
                return v.Type == OttlType.Bytes && v.Bytes.Length == length
                    ? v
                    : throw new OttlRuntimeException($"{name} expects {length} bytes but got {v.TypeName} ({v})");
            };
        });

    private static long UnixNanosNow() => (DateTimeOffset.UtcNow.UtcTicks - DateTimeOffset.UnixEpoch.Ticks) * 100;

    /// <summary>The items of a list argument: each literal element compiled separately (Concat([a, b], ...)).</summary>
    private static OttlGetter[] ListItems(FunctionArguments a, int index) =>
        a.ListNodeAt(index) is { } list
            ? list.Items.Select(a.Compiler.CompileValue).ToArray()
            : throw a.Error(index, "expected a list such as [a, b]");

    /// <summary>otelcol's StringLikeGetter: strings as is, other scalars as text, maps and lists as JSON.</summary>
    private static string StringLike(in OttlValue value) => value.Type switch
    {
        OttlType.String => value.String,
        OttlType.Bytes => Convert.ToHexStringLower(value.Bytes.Span),
        _ => value.AsString(),
    };

    private static RepeatedField<KeyValue> JsonMap(JsonElement element)
    {
        var map = new RepeatedField<KeyValue>();
        foreach (var property in element.EnumerateObject()) map.Upsert(property.Name, JsonValue(property.Value));
        return map;
    }

    private static RepeatedField<AnyValue> JsonList(JsonElement element)
    {
        var list = new RepeatedField<AnyValue>();
        foreach (var item in element.EnumerateArray()) list.Add(JsonValue(item));
        return list;
    }

    // JSON numbers become doubles, as otelcol's ParseJSON decodes them.
    private static AnyValue JsonValue(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => Attributes.String(element.GetString()!),
        JsonValueKind.Number => Attributes.Double(element.GetDouble()),
        JsonValueKind.True => Attributes.Bool(true),
        JsonValueKind.False => Attributes.Bool(false),
        JsonValueKind.Object => new AnyValue { KvlistValue = new KeyValueList { Values = { JsonMap(element) } } },
        JsonValueKind.Array => new AnyValue { ArrayValue = new ArrayValue { Values = { JsonList(element) } } },
        _ => new AnyValue(),
    };

    private sealed record TimeFormat(string Original, string Format, bool HasZone);

    /// <summary>Translates otelcol's strptime-style directives (%Y-%m-%d %H:%M:%S ...) to a .NET exact format.</summary>
    private static TimeFormat StrptimeToDotNet(FunctionArguments a, int index)
    {
        var format = a.String(index);
        var result = new StringBuilder();
        var hasZone = false;
        for (var i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length)
            {
                result.Append(char.IsAsciiLetter(format[i]) || format[i] is '\'' or '"' or '\\' or ':' or '/' or '.' ? "\\" + format[i] : format[i].ToString());
                continue;
            }
            var directive = format[++i];
            result.Append(directive switch
            {
                'Y' => "yyyy",
                'y' => "yy",
                'm' => "MM",
                'd' => "dd",
                'e' => "%d",
                'H' => "HH",
                'I' => "hh",
                'p' => "tt",
                'M' => "mm",
                'S' => "ss",
                'L' => "fff",
                'f' => "ffffff",
                'N' => "fffffff",
                'b' or 'h' => "MMM",
                'B' => "MMMM",
                'a' => "ddd",
                'A' => "dddd",
                'z' or 'Z' => "zzz",
                '%' => "\\%",
                _ => throw a.Error(index, $"unsupported time directive %{directive}"),
            });
            if (directive is 'z' or 'Z') hasZone = true;
        }
        return new TimeFormat(format, result.ToString(), hasZone);
    }

    private static TimeZoneInfo FindZone(FunctionArguments a, int index)
    {
        var name = a.String(index);
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(name);
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            throw a.Error(index, $"unknown time zone \"{name}\"");
        }
    }
}
