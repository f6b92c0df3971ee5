using System.Text;
using Google.Protobuf;
using OtelAi.Otlp.Proto.Common.V1;

namespace OtelAi.Processors.Ottl;

/// <summary>otelcol's ottlfuncs for encodings, casing and picking values: Base64Encode/Decode, Decode, Bool, Coalesce, ContainsValue, ConvertCase, ToSnakeCase, ToCamelCase.</summary>
internal static partial class OttlFunctions
{
    private static readonly string[] Base64Variants = ["base64", "base64-raw", "base64-url", "base64-raw-url"];

    private static void RegisterEncodingAndCaseConverters()
    {
        Converter("Base64Encode", ["value", "variant"], 1, a =>
        {
            var value = a.Getter(0);
            var variant = a.Has(1) ? a.String(1) : "base64";
            if (!Base64Variants.Contains(variant)) throw a.Error(1, $"variant must be one of {string.Join(", ", Base64Variants)}, got \"{variant}\"");
            return ctx => OttlValue.Of(Base64(Encoding.UTF8.GetBytes(RequireString(value(ctx), "Base64Encode value")), variant));
        });

        Converter("Base64Decode", ["value"], 1, a =>
        {
            var value = a.Getter(0);
            return ctx => OttlValue.Of(Encoding.UTF8.GetString(FromBase64(RequireString(value(ctx), "Base64Decode value"), "base64")));
        });

        Converter("Decode", ["value", "encoding"], 2, a =>
        {
            var value = a.Getter(0);
            var name = a.String(1);
            Encoding? charset = null;
            if (!Base64Variants.Contains(name))
            {
                Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
                try { charset = Encoding.GetEncoding(name); }
                catch (ArgumentException) { throw a.Error(1, $"\"{name}\" is neither a base64 variant nor an IANA character set"); }
            }
            return ctx =>
            {
                var v = value(ctx);
                var bytes = v.Type switch
                {
                    OttlType.Bytes => v.Bytes.ToByteArray(),
                    OttlType.String => charset is null ? null : Encoding.UTF8.GetBytes(v.String),
                    _ => throw new OttlRuntimeException($"Decode: value must be a string or bytes but got {v.TypeName}"),
                };
                if (charset is null) return OttlValue.Of(Encoding.UTF8.GetString(FromBase64(v.Type == OttlType.String ? v.String : Encoding.ASCII.GetString(bytes!), name)));
                return OttlValue.Of(charset.GetString(bytes!));
            };
        });

        // 1, t, T, true, TRUE, True / 0, f, F, false, FALSE, False (Go's strconv.ParseBool); numbers by non-zero; else nil.
        Converter("Bool", ["value"], 1, a =>
        {
            var value = a.Getter(0);
            return ctx =>
            {
                var v = value(ctx);
                return v.Type switch
                {
                    OttlType.Bool => v,
                    OttlType.Int => OttlValue.Of(v.Int != 0),
                    OttlType.Double => OttlValue.Of(v.Double != 0),
                    OttlType.String => v.String switch
                    {
                        "1" or "t" or "T" or "true" or "TRUE" or "True" => OttlValue.True,
                        "0" or "f" or "F" or "false" or "FALSE" or "False" => OttlValue.False,
                        _ => OttlValue.Nil,
                    },
                    _ => OttlValue.Nil,
                };
            };
        });

        Converter("Coalesce", ["values"], 1, a =>
        {
            var values = ListItems(a, 0);
            if (values.Length == 0) throw a.Error(0, "needs at least one value");
            return ctx =>
            {
                foreach (var value in values)
                    if (value(ctx) is { IsNil: false } found) return found;
                return OttlValue.Nil;
            };
        });

        Converter("ContainsValue", ["target", "item"], 2, a =>
        {
            var target = a.Getter(0);
            var item = a.Getter(1);
            return ctx =>
            {
                var t = target(ctx);
                if (t.Type != OttlType.List) throw new OttlRuntimeException($"ContainsValue: target must be a list but got {t.TypeName}");
                var wanted = item(ctx);
                foreach (var element in t.List)
                    if (Operators.Compare(OttlValue.FromAny(element), wanted, CompareOp.Eq)) return OttlValue.True;
                return OttlValue.False;
            };
        });

        Converter("ConvertCase", ["target", "toCase"], 2, a =>
        {
            var target = a.Getter(0);
            Func<string, string> convert = a.String(1) switch
            {
                "lower" => s => s.ToLowerInvariant(),
                "upper" => s => s.ToUpperInvariant(),
                "snake" => ToSnake,
                "camel" => ToCamel,
                var other => throw a.Error(1, $"toCase must be lower, upper, snake or camel, got \"{other}\""),
            };
            return ctx => OttlValue.Of(convert(RequireString(target(ctx), "ConvertCase target")));
        });
        Converter("ToSnakeCase", ["target"], 1, a =>
        {
            var target = a.Getter(0);
            return ctx => OttlValue.Of(ToSnake(RequireString(target(ctx), "ToSnakeCase target")));
        });
        Converter("ToCamelCase", ["target"], 1, a =>
        {
            var target = a.Getter(0);
            return ctx => OttlValue.Of(ToCamel(RequireString(target(ctx), "ToCamelCase target")));
        });
    }

    private static string Base64(byte[] bytes, string variant)
    {
        var text = variant.Contains("url", StringComparison.Ordinal)
            ? Convert.ToBase64String(bytes).Replace('+', '-').Replace('/', '_')
            : Convert.ToBase64String(bytes);
        return variant.Contains("raw", StringComparison.Ordinal) ? text.TrimEnd('=') : text;
    }

    private static byte[] FromBase64(string text, string variant)
    {
        var standard = variant.Contains("url", StringComparison.Ordinal) ? text.Replace('-', '+').Replace('_', '/') : text;
        if (variant.Contains("raw", StringComparison.Ordinal)) standard = standard.PadRight(standard.Length + (4 - standard.Length % 4) % 4, '=');
        try
        {
            return Convert.FromBase64String(standard);
        }
        catch (FormatException)
        {
            throw new OttlRuntimeException($"\"{text}\" is not {variant}");
        }
    }

    /// <summary>
    /// Words as the strcase library otelcol uses finds them: split at separators (space, _, -, .), at a lower-to-upper
    /// change, before the last capital of an acronym followed by lower case (HTTPServer → HTTP, Server), and between
    /// letters and digits.
    /// </summary>
    private static List<string> Words(string text)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (!char.IsLetterOrDigit(c))
            {
                Flush();
                continue;
            }
            if (word.Length > 0)
            {
                var previous = word[^1];
                var boundary = char.IsLower(previous) && char.IsUpper(c)
                    || char.IsUpper(previous) && char.IsUpper(c) && i + 1 < text.Length && char.IsLower(text[i + 1])
                    || char.IsDigit(previous) != char.IsDigit(c);
                if (boundary) Flush();
            }
            word.Append(c);
        }
        Flush();
        return words;

        void Flush()
        {
            if (word.Length > 0) words.Add(word.ToString());
            word.Clear();
        }
    }

    private static string ToSnake(string text) => string.Join('_', Words(text).Select(w => w.ToLowerInvariant()));

    private static string ToCamel(string text) => string.Concat(Words(text).Select(w => char.ToUpperInvariant(w[0]) + w[1..].ToLowerInvariant()));
}
