using System.Buffers;
using System.Globalization;
using System.Text;
using OtelAi.Exporters.PrometheusCommon;

namespace OtelAi.Exporters.Prometheus;

/// <summary>
/// Writes series in Prometheus' text exposition format 0.0.4 or OpenMetrics 1.0. Names that the classic format
/// cannot carry (UTF-8 names kept by the NoUTF8Escaping/NoTranslation strategies) are written quoted inside the
/// braces, as Prometheus 3 reads them. OpenMetrics adds exemplars (counters, histogram buckets), _created series
/// from start times, the info type for target_info, and ends with # EOF.
/// </summary>
internal static class PromExposition
{
    public const string TextContentType = "text/plain; version=0.0.4; charset=utf-8";
    public const string OpenMetricsContentType = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    public static void Write(IBufferWriter<byte> utf8, List<(PromFamily Family, List<PromSeries> Series)> families, bool openMetrics, bool timestamps)
    {
        var output = new Utf8Text(utf8);
        foreach (var (family, series) in families)
        {
            var name = family.Name;
            var type = family.Type;
            if (openMetrics && type == PromType.Counter && name.EndsWith("_total", StringComparison.Ordinal)) name = name[..^"_total".Length];
            if (openMetrics && type == PromType.Info && name.EndsWith("_info", StringComparison.Ordinal)) name = name[..^"_info".Length];
            if (family.Help.Length > 0)
            {
                output.Append("# HELP ");
                AppendName(output, name);
                output.Append(' ');
                AppendEscaped(output, family.Help, quote: false);
                output.Append('\n');
            }
            output.Append("# TYPE ");
            AppendName(output, name);
            output.Append(' ').Append(TypeWord(type, openMetrics)).Append('\n');

            foreach (var state in series)
            {
                foreach (var sample in PromSamples.Of(state))
                {
                    var suffix = sample.Suffix;
                    if (openMetrics && type == PromType.Counter) suffix = "_total";
                    if (openMetrics && type == PromType.Info) suffix = "_info";
                    AppendSample(output, name + suffix, state.Labels, sample.Extra, sample.Value);
                    if (timestamps) AppendTimestamp(output, state.TimeUnixNano, openMetrics);
                    if (openMetrics && sample.Exemplar is { TraceId.Length: > 0 } exemplar) AppendExemplar(output, exemplar);
                    output.Append('\n');
                }
                if (openMetrics && state.StartTimeUnixNano > 0 && type is PromType.Counter or PromType.Histogram or PromType.Summary)
                {
                    AppendSample(output, name + "_created", state.Labels, null, state.StartTimeUnixNano / 1e9);
                    output.Append('\n');
                }
            }
        }
        if (openMetrics) output.Append("# EOF\n");
    }

    private static string TypeWord(PromType type, bool openMetrics) => type switch
    {
        PromType.Counter => "counter",
        PromType.Histogram => "histogram",
        PromType.Summary => "summary",
        PromType.Info => openMetrics ? "info" : "gauge",
        _ => "gauge",
    };

    private static void AppendSample(Utf8Text output, string name, PromLabel[] labels, PromLabel? extra, double value)
    {
        var legacyName = PrometheusNaming.IsLegacyMetricName(name);
        if (legacyName) output.Append(name);
        var open = !legacyName || labels.Length > 0 || extra is not null;
        if (open)
        {
            output.Append('{');
            var first = true;
            if (!legacyName)
            {
                AppendQuoted(output, name);
                first = false;
            }
            foreach (var label in labels) AppendLabel(output, label, ref first);
            if (extra is { } e) AppendLabel(output, e, ref first);
            output.Append('}');
        }
        output.Append(' ').Append(PromSamples.FormatFloat(value));
    }

    private static void AppendLabel(Utf8Text output, PromLabel label, ref bool first)
    {
        if (!first) output.Append(',');
        first = false;
        if (PrometheusNaming.IsLegacyLabelName(label.Name)) output.Append(label.Name);
        else AppendQuoted(output, label.Name);
        output.Append('=');
        AppendQuoted(output, label.Value);
    }

    private static void AppendName(Utf8Text output, string name)
    {
        if (PrometheusNaming.IsLegacyMetricName(name)) output.Append(name);
        else AppendQuoted(output, name);
    }

    private static void AppendTimestamp(Utf8Text output, long unixNano, bool openMetrics)
    {
        if (unixNano <= 0) return;
        output.Append(' ');
        if (openMetrics) output.Append((unixNano / 1e9).ToString("0.000", CultureInfo.InvariantCulture));
        else output.Append((unixNano / 1_000_000).ToString(CultureInfo.InvariantCulture));
    }

    private static void AppendExemplar(Utf8Text output, PromExemplar exemplar)
    {
        output.Append(" # {trace_id=\"").Append(exemplar.TraceId).Append('"');
        if (exemplar.SpanId.Length > 0) output.Append(",span_id=\"").Append(exemplar.SpanId).Append('"');
        output.Append("} ").Append(PromSamples.FormatFloat(exemplar.Value));
        if (exemplar.TimeUnixNano > 0) output.Append(' ').Append((exemplar.TimeUnixNano / 1e9).ToString("0.000", CultureInfo.InvariantCulture));
    }

    private static void AppendQuoted(Utf8Text output, string text)
    {
        output.Append('"');
        AppendEscaped(output, text, quote: true);
        output.Append('"');
    }

    /// <summary>Backslash and newline escaped (and double quotes inside quoted values), as both formats require.</summary>
    private static void AppendEscaped(Utf8Text output, string text, bool quote)
    {
        var run = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var escaped = text[i] switch
            {
                '\\' => "\\\\",
                '\n' => "\\n",
                '"' when quote => "\\\"",
                _ => null,
            };
            if (escaped is null) continue;
            output.Append(text.AsSpan(run, i - run)).Append(escaped);
            run = i + 1;
        }
        output.Append(text.AsSpan(run));
    }
}

/// <summary>Appends text to a UTF-8 buffer: the exposition goes to the response without a UTF-16 copy of it.</summary>
internal readonly struct Utf8Text(IBufferWriter<byte> output)
{
    public Utf8Text Append(string text) => Append(text.AsSpan());

    public Utf8Text Append(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty) return this;
        var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        output.Advance(Encoding.UTF8.GetBytes(text, span));
        return this;
    }

    public Utf8Text Append(char c)
    {
        if (c < 0x80)
        {
            output.GetSpan(1)[0] = (byte)c;
            output.Advance(1);
            return this;
        }
        return Append([c]);
    }
}
