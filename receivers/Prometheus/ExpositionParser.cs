using System.Globalization;

namespace OtelAi.Receivers.Prometheus;

/// <summary>The metric types of the Prometheus text format 0.0.4 and OpenMetrics 1.0.</summary>
internal enum ScrapedType { Unknown, Counter, Gauge, Histogram, GaugeHistogram, Summary, Info, StateSet }

/// <summary>One sample line: its name as written, labels in order, value, optional timestamp (ms) and exemplar.</summary>
internal sealed record ScrapedSample(string Name, List<KeyValuePair<string, string>> Labels, double Value, long? TimestampMs, ScrapedExemplar? Exemplar);

internal sealed record ScrapedExemplar(List<KeyValuePair<string, string>> Labels, double Value, long? TimestampMs);

/// <summary>A metric family: the samples that belong to one # TYPE (or to one name, untyped).</summary>
internal sealed class ScrapedFamily(string name, ScrapedType type)
{
    public string Name { get; } = name;
    public ScrapedType Type { get; set; } = type;
    public string Help { get; set; } = "";
    public string Unit { get; set; } = "";
    public List<ScrapedSample> Samples { get; } = [];
}

/// <summary>A scrape body that is not valid exposition text: the line and what was wrong.</summary>
internal sealed class ExpositionException(int line, string message) : Exception($"line {line}: {message}");

/// <summary>
/// Parses Prometheus' text exposition format 0.0.4 and OpenMetrics 1.0 text into metric families: HELP, TYPE and
/// UNIT metadata, samples with escaped label values, float values (+Inf, -Inf, NaN), timestamps (milliseconds in
/// 0.0.4, seconds in OpenMetrics) and OpenMetrics exemplars. Sample names ending in _bucket, _sum, _count, _total,
/// _created, _info, _gcount, _gsum join the family their declared type says they belong to. Anything malformed
/// fails the whole scrape with the line number, as Prometheus does.
/// </summary>
internal static class ExpositionParser
{
    private static readonly string[] Suffixes = ["_bucket", "_sum", "_count", "_total", "_created", "_info", "_gcount", "_gsum"];

    public static List<ScrapedFamily> Parse(string text, bool openMetrics)
    {
        var families = new List<ScrapedFamily>();
        var byName = new Dictionary<string, ScrapedFamily>(StringComparer.Ordinal);
        var lineNumber = 0;
        var sawEof = false;
        foreach (var rawLine in text.Split('\n'))
        {
            lineNumber++;
            var line = rawLine.TrimEnd('\r');
            if (sawEof && line.Length > 0) throw new ExpositionException(lineNumber, "content after # EOF");
            if (line.Trim().Length == 0) continue;
            if (line[0] == '#')
            {
                if (line == "# EOF") { sawEof = true; continue; }
                var parts = line.Split(' ', 4, StringSplitOptions.None);
                if (parts.Length >= 3 && parts[0] == "#" && parts[1] is "HELP" or "TYPE" or "UNIT")
                {
                    var family = Family(families, byName, parts[2]);
                    var rest = parts.Length == 4 ? parts[3] : "";
                    switch (parts[1])
                    {
                        case "HELP": family.Help = Unescape(rest, quoted: false); break;
                        case "UNIT": family.Unit = rest; break;
                        default: family.Type = TypeOf(rest, lineNumber); break;
                    }
                }
                continue; // other comments
            }
            var sample = ParseSample(line, lineNumber, openMetrics);
            FamilyOf(families, byName, sample.Name).Samples.Add(sample);
        }
        if (openMetrics && !sawEof) throw new ExpositionException(lineNumber, "OpenMetrics text must end with # EOF");
        return families;
    }

    private static ScrapedType TypeOf(string word, int line) => word.Trim() switch
    {
        "counter" => ScrapedType.Counter,
        "gauge" => ScrapedType.Gauge,
        "histogram" => ScrapedType.Histogram,
        "gaugehistogram" => ScrapedType.GaugeHistogram,
        "summary" => ScrapedType.Summary,
        "info" => ScrapedType.Info,
        "stateset" => ScrapedType.StateSet,
        "untyped" or "unknown" => ScrapedType.Unknown,
        var other => throw new ExpositionException(line, $"unknown metric type \"{other}\""),
    };

    private static ScrapedFamily Family(List<ScrapedFamily> families, Dictionary<string, ScrapedFamily> byName, string name)
    {
        if (!byName.TryGetValue(name, out var family))
        {
            family = new ScrapedFamily(name, ScrapedType.Unknown);
            byName[name] = family;
            families.Add(family);
        }
        return family;
    }

    /// <summary>The family a sample belongs to: its own name's, else the declared family its suffix points to, else a new untyped one.</summary>
    private static ScrapedFamily FamilyOf(List<ScrapedFamily> families, Dictionary<string, ScrapedFamily> byName, string sampleName)
    {
        if (byName.TryGetValue(sampleName, out var exact) && exact.Type != ScrapedType.Unknown) return exact;
        foreach (var suffix in Suffixes)
        {
            if (!sampleName.EndsWith(suffix, StringComparison.Ordinal)) continue;
            if (byName.TryGetValue(sampleName[..^suffix.Length], out var family) && BelongsTo(family.Type, suffix)) return family;
        }
        return exact ?? Family(families, byName, sampleName);
    }

    private static bool BelongsTo(ScrapedType type, string suffix) => type switch
    {
        ScrapedType.Histogram => suffix is "_bucket" or "_sum" or "_count" or "_created",
        ScrapedType.GaugeHistogram => suffix is "_bucket" or "_gsum" or "_gcount",
        ScrapedType.Summary => suffix is "_sum" or "_count" or "_created",
        ScrapedType.Counter => suffix is "_total" or "_created",
        ScrapedType.Info => suffix is "_info",
        _ => false,
    };

    private static ScrapedSample ParseSample(string line, int lineNumber, bool openMetrics)
    {
        var at = 0;
        while (at < line.Length && IsNameChar(line[at], at == 0)) at++;
        if (at == 0) throw new ExpositionException(lineNumber, $"expected a metric name, got \"{Shorten(line)}\"");
        var name = line[..at];
        var labels = new List<KeyValuePair<string, string>>();
        if (at < line.Length && line[at] == '{') at = ParseLabels(line, at, labels, lineNumber);
        if (at >= line.Length || line[at] != ' ') throw new ExpositionException(lineNumber, $"expected a space and a value after \"{name}\"");
        while (at < line.Length && line[at] == ' ') at++;

        var exemplarAt = openMetrics ? line.IndexOf(" # ", at, StringComparison.Ordinal) : -1;
        var valuePart = exemplarAt >= 0 ? line[at..exemplarAt] : line[at..];
        var fields = valuePart.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length is 0 or > 2) throw new ExpositionException(lineNumber, $"expected value [timestamp], got \"{Shorten(valuePart)}\"");
        var value = ParseFloat(fields[0], lineNumber);
        long? timestamp = fields.Length == 2 ? ParseTimestamp(fields[1], openMetrics, lineNumber) : null;

        ScrapedExemplar? exemplar = null;
        if (exemplarAt >= 0)
        {
            var exemplarText = line[(exemplarAt + 3)..];
            if (exemplarText.Length == 0 || exemplarText[0] != '{') throw new ExpositionException(lineNumber, "an exemplar starts with {");
            var exemplarLabels = new List<KeyValuePair<string, string>>();
            var end = ParseLabels(exemplarText, 0, exemplarLabels, lineNumber);
            var exemplarFields = exemplarText[end..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (exemplarFields.Length is 0 or > 2) throw new ExpositionException(lineNumber, "an exemplar needs a value [timestamp]");
            exemplar = new ScrapedExemplar(exemplarLabels, ParseFloat(exemplarFields[0], lineNumber),
                exemplarFields.Length == 2 ? ParseTimestamp(exemplarFields[1], openMetrics: true, lineNumber) : null);
        }
        return new ScrapedSample(name, labels, value, timestamp, exemplar);
    }

    /// <summary>Parses {name="value",...} from <paramref name="at"/> (the brace); returns the index after the closing brace.</summary>
    private static int ParseLabels(string line, int at, List<KeyValuePair<string, string>> labels, int lineNumber)
    {
        at++; // {
        while (true)
        {
            while (at < line.Length && line[at] == ' ') at++;
            if (at < line.Length && line[at] == '}') return at + 1;
            var start = at;
            while (at < line.Length && IsLabelChar(line[at], at == start)) at++;
            if (at == start) throw new ExpositionException(lineNumber, $"expected a label name at column {at + 1}");
            var labelName = line[start..at];
            while (at < line.Length && line[at] == ' ') at++;
            if (at >= line.Length || line[at] != '=') throw new ExpositionException(lineNumber, $"expected = after label {labelName}");
            at++;
            while (at < line.Length && line[at] == ' ') at++;
            if (at >= line.Length || line[at] != '"') throw new ExpositionException(lineNumber, $"expected a quoted value for label {labelName}");
            at++;
            var valueStart = at;
            while (at < line.Length && line[at] != '"')
                at += line[at] == '\\' ? 2 : 1;
            if (at >= line.Length) throw new ExpositionException(lineNumber, $"unterminated value of label {labelName}");
            labels.Add(new(labelName, Unescape(line[valueStart..at], quoted: true)));
            at++; // closing quote
            while (at < line.Length && line[at] == ' ') at++;
            if (at < line.Length && line[at] == ',') { at++; continue; }
            if (at < line.Length && line[at] == '}') return at + 1;
            throw new ExpositionException(lineNumber, $"expected , or }} after label {labelName}");
        }
    }

    private static string Unescape(string text, bool quoted)
    {
        if (!text.Contains('\\')) return text;
        var result = new System.Text.StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '\\' || i + 1 >= text.Length) { result.Append(text[i]); continue; }
            var next = text[++i];
            switch (next)
            {
                case '\\': result.Append('\\'); break;
                case 'n': result.Append('\n'); break;
                case '"' when quoted: result.Append('"'); break;
                default: result.Append('\\').Append(next); break;
            }
        }
        return result.ToString();
    }

    /// <summary>A float as Go's ParseFloat reads it: decimal or exponent forms, Inf/+Inf/-Inf, NaN.</summary>
    internal static double ParseFloat(string text, int lineNumber)
    {
        switch (text)
        {
            case "+Inf" or "Inf" or "+inf" or "inf": return double.PositiveInfinity;
            case "-Inf" or "-inf": return double.NegativeInfinity;
            case "NaN" or "nan": return double.NaN;
        }
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)) return value;
        throw new ExpositionException(lineNumber, $"\"{Shorten(text)}\" is not a number");
    }

    private static long ParseTimestamp(string text, bool openMetrics, int lineNumber)
    {
        if (openMetrics) return (long)Math.Round(ParseFloat(text, lineNumber) * 1000);
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var ms)) return ms;
        throw new ExpositionException(lineNumber, $"\"{Shorten(text)}\" is not a timestamp in milliseconds");
    }

    private static bool IsNameChar(char c, bool first) => char.IsAsciiLetter(c) || c is '_' or ':' || !first && char.IsAsciiDigit(c);

    private static bool IsLabelChar(char c, bool first) => char.IsAsciiLetter(c) || c == '_' || !first && char.IsAsciiDigit(c);

    private static string Shorten(string text) => text.Length > 60 ? text[..60] + "…" : text;
}
