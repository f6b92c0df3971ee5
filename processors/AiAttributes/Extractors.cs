using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Trace.V1;

namespace OtelAi.Processors.AiAttributes;

/// <summary>Inference URL patterns such as <c>/v2/models/{model}/versions/{version}/...</c> compiled to regexes.</summary>
internal static class PathPatterns
{
    public static string? Check(string pattern)
    {
        if (!pattern.Contains("{model}", StringComparison.Ordinal) && !pattern.Contains("{version}", StringComparison.Ordinal))
            return "a path pattern needs a {model} or {version} placeholder";
        var stripped = pattern.Replace("{model}", "").Replace("{version}", "");
        return stripped.Contains('{') || stripped.Contains('}') ? "only the {model} and {version} placeholders are known" : null;
    }

    public static Regex Compile(string pattern)
    {
        var anyRest = pattern.EndsWith("...", StringComparison.Ordinal);
        var literal = anyRest ? pattern[..^3] : pattern;
        var sb = new StringBuilder();
        // A placeholder is one path segment; braces are excluded so route templates ("/v2/models/{model}/infer") yield nothing.
        foreach (var part in Regex.Split(literal, "(\\{model\\}|\\{version\\})"))
        {
            sb.Append(part switch
            {
                "{model}" => "(?<model>[^/:?#{}\\s]+)",
                "{version}" => "(?<version>[^/:?#{}\\s]+)",
                _ => Regex.Escape(part),
            });
        }
        sb.Append(anyRest ? "[^?#\\s]*" : "");
        sb.Append("(?=$|[?#\\s])");
        return new Regex(sb.ToString(), RegexOptions.CultureInvariant | RegexOptions.Compiled);
    }
}

internal static class SpanKinds
{
    public static Span.Types.SpanKind? Parse(string text) => text.ToLowerInvariant() switch
    {
        "server" or "span_kind_server" => Span.Types.SpanKind.Server,
        "client" or "span_kind_client" => Span.Types.SpanKind.Client,
        "internal" or "span_kind_internal" => Span.Types.SpanKind.Internal,
        "producer" or "span_kind_producer" => Span.Types.SpanKind.Producer,
        "consumer" or "span_kind_consumer" => Span.Types.SpanKind.Consumer,
        _ => null,
    };
}

internal static class LatencyUnits
{
    public static double? ToMilliseconds(string unit) => unit switch
    {
        "ns" => 1e-6,
        "us" => 1e-3,
        "ms" => 1,
        "s" => 1000,
        _ => null,
    };
}

internal static class MemoryUnits
{
    /// <summary>Bytes per unit for UCUM-style units as OpenTelemetry writes them (and the plain spellings).</summary>
    public static long? BytesPer(string unit) => unit switch
    {
        "By" or "bytes" or "B" => 1,
        "KiBy" or "KiB" => 1L << 10,
        "MiBy" or "MiB" => 1L << 20,
        "GiBy" or "GiB" => 1L << 30,
        _ => null,
    };
}

/// <summary>Reads scalar values out of attributes the way the sources need them.</summary>
internal static class Values
{
    /// <summary>Text of a string, number or bool value; the first element of a string array (captured headers are arrays).</summary>
    public static string? Text(AnyValue? value) => value?.ValueCase switch
    {
        AnyValue.ValueOneofCase.StringValue => value.StringValue.Length > 0 ? value.StringValue : null,
        AnyValue.ValueOneofCase.IntValue => value.IntValue.ToString(CultureInfo.InvariantCulture),
        AnyValue.ValueOneofCase.DoubleValue => value.DoubleValue.ToString("R", CultureInfo.InvariantCulture),
        AnyValue.ValueOneofCase.BoolValue => value.BoolValue ? "true" : "false",
        AnyValue.ValueOneofCase.ArrayValue when value.ArrayValue.Values.Count > 0 => Text(value.ArrayValue.Values[0]),
        _ => null,
    };

    public static double? Number(AnyValue? value) => value?.ValueCase switch
    {
        AnyValue.ValueOneofCase.IntValue => value.IntValue,
        AnyValue.ValueOneofCase.DoubleValue => value.DoubleValue,
        _ => Text(value) is { } text && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null,
    };
}

/// <summary>A field of a JSON document by dotted path (<c>a.b</c>, <c>messages.0.role</c>).</summary>
internal static class JsonField
{
    public static string? Read(string json, string[] path)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var element = document.RootElement;
            foreach (var segment in path)
            {
                if (element.ValueKind == JsonValueKind.Object && element.TryGetProperty(segment, out var child)) element = child;
                else if (element.ValueKind == JsonValueKind.Array && int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out var index)
                         && index < element.GetArrayLength()) element = element[index];
                else return null;
            }
            return element.ValueKind switch
            {
                JsonValueKind.String => element.GetString() is { Length: > 0 } s ? s : null,
                JsonValueKind.Number => element.GetRawText(),
                _ => null,
            };
        }
        catch (JsonException)
        {
            return null; // a truncated or non-JSON body simply has no such field
        }
    }
}

/// <summary>Flag values from a command line (<c>--model=x</c> or <c>--model x</c>).</summary>
internal static class CommandLine
{
    public static string? FlagValue(IReadOnlyList<string> args, IReadOnlyList<string> flags)
    {
        for (var i = 0; i < args.Count; i++)
        {
            foreach (var flag in flags)
            {
                var arg = args[i];
                if (arg.Length > flag.Length && arg.StartsWith(flag, StringComparison.Ordinal) && arg[flag.Length] == '=')
                    return arg[(flag.Length + 1)..] is { Length: > 0 } v ? v : null;
                if (arg == flag && i + 1 < args.Count && !args[i + 1].StartsWith('-'))
                    return args[i + 1];
            }
        }
        return null;
    }

    /// <summary>Splits a command line on whitespace, honouring single and double quotes.</summary>
    public static List<string> Split(string commandLine)
    {
        var args = new List<string>();
        var current = new StringBuilder();
        char? quote = null;
        var inArg = false;
        foreach (var c in commandLine)
        {
            if (quote is not null)
            {
                if (c == quote) quote = null;
                else current.Append(c);
            }
            else if (c is '"' or '\'')
            {
                quote = c;
                inArg = true;
            }
            else if (char.IsWhiteSpace(c))
            {
                if (inArg) args.Add(current.ToString());
                current.Clear();
                inArg = false;
            }
            else
            {
                current.Append(c);
                inArg = true;
            }
        }
        if (inArg) args.Add(current.ToString());
        return args;
    }

    public static List<string>? Args(AnyValue? value) => value?.ValueCase switch
    {
        AnyValue.ValueOneofCase.StringValue => Split(value.StringValue),
        AnyValue.ValueOneofCase.ArrayValue => value.ArrayValue.Values.Select(v => v.StringValue ?? "").ToList(),
        _ => null,
    };
}
