using System.Text;
using OtelAi.Engine.Config;
using OtelAi.Otlp.Proto.Metrics.V1;

namespace OtelAi.Exporters.PrometheusCommon;

/// <summary>otelcol's <c>translation_strategy</c>: how OTLP metric and attribute names become Prometheus names.</summary>
public enum TranslationStrategy
{
    /// <summary>Characters outside [a-zA-Z0-9_:] become _, unit and type suffixes are appended (the classic names).</summary>
    [ConfigKey("UnderscoreEscapingWithSuffixes")] UnderscoreEscapingWithSuffixes,
    /// <summary>Escaped as above, no suffixes.</summary>
    [ConfigKey("UnderscoreEscapingWithoutSuffixes")] UnderscoreEscapingWithoutSuffixes,
    /// <summary>Names kept in UTF-8 (quoted in the exposition), suffixes appended.</summary>
    [ConfigKey("NoUTF8EscapingWithSuffixes")] NoUtf8EscapingWithSuffixes,
    /// <summary>Names and label keys passed through unaltered.</summary>
    [ConfigKey("NoTranslation")] NoTranslation,
}

/// <summary>What a translated metric is in Prometheus' data model.</summary>
internal enum PromType { Counter, Gauge, Histogram, Summary, Info }

/// <summary>
/// OTLP → Prometheus names as the OpenTelemetry compatibility specification and otelcol's translator give them:
/// metric names are split into tokens of [a-zA-Z0-9:] (so runs of invalid characters and underscores become one _),
/// the unit is appended in Prometheus words (s → seconds, By → bytes, 1/s → per_second, annotations in {} dropped)
/// unless a token already says it, then _total on counters and _ratio on gauges of unit 1; a leading digit gets _.
/// Label keys get invalid characters replaced by _, key_ before a leading digit or a single leading _.
/// </summary>
internal sealed class PrometheusNaming(string prefix, TranslationStrategy strategy)
{
    private static readonly Dictionary<string, string> UnitWords = new(StringComparer.Ordinal)
    {
        ["d"] = "days", ["h"] = "hours", ["min"] = "minutes", ["s"] = "seconds", ["ms"] = "milliseconds", ["us"] = "microseconds", ["ns"] = "nanoseconds",
        ["By"] = "bytes", ["KiBy"] = "kibibytes", ["MiBy"] = "mebibytes", ["GiBy"] = "gibibytes", ["TiBy"] = "tibibytes",
        ["KBy"] = "kilobytes", ["MBy"] = "megabytes", ["GBy"] = "gigabytes", ["TBy"] = "terabytes",
        ["m"] = "meters", ["V"] = "volts", ["A"] = "amperes", ["J"] = "joules", ["W"] = "watts", ["g"] = "grams",
        ["Cel"] = "celsius", ["Hz"] = "hertz", ["1"] = "", ["%"] = "percent",
    };

    private static readonly Dictionary<string, string> PerUnitWords = new(StringComparer.Ordinal)
    {
        ["s"] = "second", ["m"] = "minute", ["h"] = "hour", ["d"] = "day", ["w"] = "week", ["mo"] = "month", ["y"] = "year",
    };

    public static PrometheusNaming For(string @namespace, TranslationStrategy? strategy, bool addMetricSuffixes) =>
        new(@namespace, strategy ?? (addMetricSuffixes ? TranslationStrategy.UnderscoreEscapingWithSuffixes : TranslationStrategy.UnderscoreEscapingWithoutSuffixes));

    public TranslationStrategy Strategy => strategy;

    private bool Escapes => strategy is TranslationStrategy.UnderscoreEscapingWithSuffixes or TranslationStrategy.UnderscoreEscapingWithoutSuffixes;

    private bool AddsSuffixes => strategy is TranslationStrategy.UnderscoreEscapingWithSuffixes or TranslationStrategy.NoUtf8EscapingWithSuffixes;

    /// <summary>The family name of <paramref name="metric"/> translated as <paramref name="type"/> (counters end in _total when suffixes are on).</summary>
    public string MetricName(Metric metric, PromType type)
    {
        var name = metric.Name;
        if (strategy == TranslationStrategy.NoTranslation) return prefix.Length > 0 ? prefix + "_" + name : name;

        var tokens = Escapes ? Tokens(name) : [.. name.Split('_', StringSplitOptions.RemoveEmptyEntries)];
        if (AddsSuffixes)
        {
            var (main, per) = UnitSuffixes(metric.Unit);
            if (main.Length > 0 && !tokens.Contains(main)) tokens.Add(main);
            if (per.Length > 0 && !tokens.Contains(per))
            {
                tokens.Add("per");
                tokens.Add(per);
            }
            if (type == PromType.Counter)
            {
                tokens.Remove("total");
                tokens.Add("total");
            }
            if (type == PromType.Gauge && metric.Unit == "1")
            {
                tokens.Remove("ratio");
                tokens.Add("ratio");
            }
        }
        if (prefix.Length > 0) tokens.Insert(0, Escapes ? string.Join('_', Tokens(prefix)) : prefix);
        var joined = string.Join('_', tokens);
        return Escapes && joined.Length > 0 && char.IsAsciiDigit(joined[0]) ? "_" + joined : joined;
    }

    /// <summary>A label key: escaped per the strategy (UTF-8 strategies keep it as it is).</summary>
    public string LabelName(string key) => Escapes ? EscapeLabel(key) : key;

    /// <summary>Prometheus' label rules for an attribute key: [a-zA-Z0-9_] only, no leading digit, no single leading _.</summary>
    public static string EscapeLabel(string key)
    {
        if (key.Length == 0) return key;
        var valid = true;
        foreach (var c in key)
            if (!IsLabelChar(c)) { valid = false; break; }
        var escaped = valid ? key : string.Create(key.Length, key, static (span, k) =>
        {
            for (var i = 0; i < k.Length; i++) span[i] = IsLabelChar(k[i]) ? k[i] : '_';
        });
        if (char.IsAsciiDigit(escaped[0])) return "key_" + escaped;
        if (escaped[0] == '_' && !escaped.StartsWith("__", StringComparison.Ordinal)) return "key" + escaped;
        return escaped;
    }

    /// <summary>A metric name that the classic exposition format can write without quoting.</summary>
    public static bool IsLegacyMetricName(string name)
    {
        if (name.Length == 0 || char.IsAsciiDigit(name[0])) return false;
        foreach (var c in name)
            if (!IsLabelChar(c) && c != ':') return false;
        return true;
    }

    /// <summary>A label name that the classic exposition format can write without quoting.</summary>
    public static bool IsLegacyLabelName(string name)
    {
        if (name.Length == 0 || char.IsAsciiDigit(name[0])) return false;
        foreach (var c in name)
            if (!IsLabelChar(c)) return false;
        return true;
    }

    private static bool IsLabelChar(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';

    /// <summary>The runs of [a-zA-Z0-9:] in <paramref name="name"/>: splitting there drops invalid characters and collapses underscores.</summary>
    private static List<string> Tokens(string name)
    {
        var tokens = new List<string>();
        var start = -1;
        for (var i = 0; i <= name.Length; i++)
        {
            var inToken = i < name.Length && (char.IsAsciiLetterOrDigit(name[i]) || name[i] == ':');
            if (inToken && start < 0) start = i;
            else if (!inToken && start >= 0)
            {
                tokens.Add(name[start..i]);
                start = -1;
            }
        }
        return tokens;
    }

    /// <summary>The main and per-unit words of a UCUM unit ("By/s" → bytes, second); annotations ({...}) give none.</summary>
    private static (string Main, string Per) UnitSuffixes(string unit)
    {
        if (unit.Length == 0) return ("", "");
        var slash = unit.IndexOf('/');
        var main = (slash < 0 ? unit : unit[..slash]).Trim();
        var per = slash < 0 ? "" : unit[(slash + 1)..].Trim();
        return (UnitWord(main, UnitWords), UnitWord(per, PerUnitWords));
    }

    private static string UnitWord(string unit, Dictionary<string, string> words)
    {
        if (unit.Length == 0 || unit.AsSpan().IndexOfAny('{', '}') >= 0) return "";
        var word = words.TryGetValue(unit, out var known) ? known : unit;
        var builder = new StringBuilder(word.Length);
        foreach (var c in word)
        {
            var valid = char.IsAsciiLetterOrDigit(c) || c == ':';
            if (valid) builder.Append(c);
            else if (builder.Length > 0 && builder[^1] != '_') builder.Append('_');
        }
        return builder.ToString().TrimEnd('_');
    }
}
