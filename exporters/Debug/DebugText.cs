using System.Globalization;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.Collections;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Logs.V1;
using OtelAi.Otlp.Proto.Metrics.V1;
using OtelAi.Otlp.Proto.Resource.V1;
using OtelAi.Otlp.Proto.Trace.V1;

namespace OtelAi.Exporters.DebugOutput;

/// <summary>The debug exporter's text, in the shapes otelcol's debug exporter prints.</summary>
internal static class DebugText
{
    /// <summary>basic: <c>Traces {"resource spans": 1, "spans": 2}</c>.</summary>
    public static string Summary<T>(Payload<T> data) where T : class, IMessage<T>, new() => OtlpSignal<T>.Instance.Signal switch
    {
        Signal.Traces => $"Traces {{\"resource spans\": {data.ResourceCount}, \"spans\": {data.ItemCount}}}",
        Signal.Metrics => $"Metrics {{\"resource metrics\": {data.ResourceCount}, \"metrics\": {data.MetricCount}, \"data points\": {data.ItemCount}}}",
        _ => $"Logs {{\"resource logs\": {data.ResourceCount}, \"log records\": {data.ItemCount}}}",
    };

    /// <summary>normal: one line per span, data point or log record.</summary>
    public static string Normal(IMessage data)
    {
        var text = new StringBuilder();
        switch (data)
        {
            case ExportTraceServiceRequest traces:
                foreach (var span in traces.ResourceSpans.SelectMany(r => r.ScopeSpans).SelectMany(s => s.Spans))
                    text.Append(span.Name).Append(' ').Append(Hex(span.TraceId)).Append(' ').Append(Hex(span.SpanId)).Append(InlineAttributes(span.Attributes, " ")).Append('\n');
                break;
            case ExportMetricsServiceRequest metrics:
                foreach (var metric in metrics.ResourceMetrics.SelectMany(r => r.ScopeMetrics).SelectMany(s => s.Metrics))
                    NormalMetric(text, metric);
                break;
            case ExportLogsServiceRequest logs:
                foreach (var record in logs.ResourceLogs.SelectMany(r => r.ScopeLogs).SelectMany(s => s.LogRecords))
                    text.Append(OneLine(record.Body.AsString())).Append(InlineAttributes(record.Attributes, " ")).Append('\n');
                break;
        }
        return text.ToString();
    }

    private static void NormalMetric(StringBuilder text, Metric metric)
    {
        void Line(RepeatedField<KeyValue> attributes, string value) =>
            text.Append(metric.Name).Append('{').Append(string.Join(',', attributes.Select(a => $"{a.Key}={OneLine(a.Value.AsString())}"))).Append("} ").Append(value).Append('\n');

        switch (metric.DataCase)
        {
            case Metric.DataOneofCase.Gauge:
                foreach (var p in metric.Gauge.DataPoints) Line(p.Attributes, NumberValue(p));
                break;
            case Metric.DataOneofCase.Sum:
                foreach (var p in metric.Sum.DataPoints) Line(p.Attributes, NumberValue(p));
                break;
            case Metric.DataOneofCase.Histogram:
                foreach (var p in metric.Histogram.DataPoints)
                    Line(p.Attributes, $"count={p.Count} sum={Number(p.Sum)}{MinMax(p.HasMin, p.Min, p.HasMax, p.Max)} buckets=[{string.Join(',', p.BucketCounts)}] bounds=[{string.Join(',', p.ExplicitBounds.Select(Number))}]");
                break;
            case Metric.DataOneofCase.ExponentialHistogram:
                foreach (var p in metric.ExponentialHistogram.DataPoints)
                    Line(p.Attributes, $"count={p.Count} sum={Number(p.Sum)}{MinMax(p.HasMin, p.Min, p.HasMax, p.Max)} scale={p.Scale} zero_count={p.ZeroCount}");
                break;
            case Metric.DataOneofCase.Summary:
                foreach (var p in metric.Summary.DataPoints)
                    Line(p.Attributes, $"count={p.Count} sum={Number(p.Sum)} {string.Join(' ', p.QuantileValues.Select(q => $"q{Number(q.Quantile)}={Number(q.Value)}"))}");
                break;
        }
    }

    /// <summary>detailed: every field, as otelcol's otlptext marshaler lays it out.</summary>
    public static string Detailed(IMessage data)
    {
        var text = new StringBuilder();
        switch (data)
        {
            case ExportTraceServiceRequest traces: DetailedTraces(text, traces); break;
            case ExportMetricsServiceRequest metrics: DetailedMetrics(text, metrics); break;
            case ExportLogsServiceRequest logs: DetailedLogs(text, logs); break;
        }
        return text.ToString();
    }

    private static void DetailedTraces(StringBuilder text, ExportTraceServiceRequest traces)
    {
        for (var r = 0; r < traces.ResourceSpans.Count; r++)
        {
            var rs = traces.ResourceSpans[r];
            ResourceHeader(text, "ResourceSpans", r, rs.SchemaUrl, rs.Resource);
            for (var s = 0; s < rs.ScopeSpans.Count; s++)
            {
                var ss = rs.ScopeSpans[s];
                ScopeHeader(text, "ScopeSpans", s, ss.SchemaUrl, ss.Scope);
                for (var i = 0; i < ss.Spans.Count; i++)
                {
                    var span = ss.Spans[i];
                    text.Append("Span #").Append(i).Append('\n');
                    Field(text, "Trace ID       ", Hex(span.TraceId));
                    Field(text, "Parent ID      ", Hex(span.ParentSpanId));
                    Field(text, "ID             ", Hex(span.SpanId));
                    Field(text, "Name           ", span.Name);
                    Field(text, "Kind           ", KindName(span.Kind));
                    if (span.TraceState.Length > 0) Field(text, "TraceState     ", span.TraceState);
                    Field(text, "Start time     ", Time(span.StartTimeUnixNano));
                    Field(text, "End time       ", Time(span.EndTimeUnixNano));
                    Field(text, "Status code    ", StatusName(span.Status?.Code ?? Status.Types.StatusCode.Unset));
                    Field(text, "Status message ", span.Status?.Message ?? "");
                    Field(text, "DroppedAttributesCount", span.DroppedAttributesCount.ToString(CultureInfo.InvariantCulture));
                    Attributes(text, "Attributes:", span.Attributes, "     -> ");
                    if (span.Events.Count > 0) text.Append("Events:\n");
                    for (var e = 0; e < span.Events.Count; e++)
                    {
                        var ev = span.Events[e];
                        text.Append("SpanEvent #").Append(e).Append('\n');
                        text.Append("     -> Name: ").Append(ev.Name).Append('\n');
                        text.Append("     -> Timestamp: ").Append(Time(ev.TimeUnixNano)).Append('\n');
                        text.Append("     -> DroppedAttributesCount: ").Append(ev.DroppedAttributesCount).Append('\n');
                        Attributes(text, "     -> Attributes::", ev.Attributes, "          -> ");
                    }
                    Field(text, "DroppedEventsCount", span.DroppedEventsCount.ToString(CultureInfo.InvariantCulture));
                    if (span.Links.Count > 0) text.Append("Links:\n");
                    for (var l = 0; l < span.Links.Count; l++)
                    {
                        var link = span.Links[l];
                        text.Append("SpanLink #").Append(l).Append('\n');
                        text.Append("     -> Trace ID: ").Append(Hex(link.TraceId)).Append('\n');
                        text.Append("     -> ID: ").Append(Hex(link.SpanId)).Append('\n');
                        text.Append("     -> TraceState: ").Append(link.TraceState).Append('\n');
                        text.Append("     -> DroppedAttributesCount: ").Append(link.DroppedAttributesCount).Append('\n');
                        Attributes(text, "     -> Attributes::", link.Attributes, "          -> ");
                    }
                    Field(text, "DroppedLinksCount", span.DroppedLinksCount.ToString(CultureInfo.InvariantCulture));
                }
            }
        }
    }

    private static void DetailedMetrics(StringBuilder text, ExportMetricsServiceRequest metrics)
    {
        for (var r = 0; r < metrics.ResourceMetrics.Count; r++)
        {
            var rm = metrics.ResourceMetrics[r];
            ResourceHeader(text, "ResourceMetrics", r, rm.SchemaUrl, rm.Resource);
            for (var s = 0; s < rm.ScopeMetrics.Count; s++)
            {
                var sm = rm.ScopeMetrics[s];
                ScopeHeader(text, "ScopeMetrics", s, sm.SchemaUrl, sm.Scope);
                for (var i = 0; i < sm.Metrics.Count; i++)
                {
                    var metric = sm.Metrics[i];
                    text.Append("Metric #").Append(i).Append('\n').Append("Descriptor:\n");
                    text.Append("     -> Name: ").Append(metric.Name).Append('\n');
                    text.Append("     -> Description: ").Append(metric.Description).Append('\n');
                    text.Append("     -> Unit: ").Append(metric.Unit).Append('\n');
                    text.Append("     -> DataType: ").Append(metric.DataCase).Append('\n');
                    DetailedPoints(text, metric);
                }
            }
        }
    }

    private static void DetailedPoints(StringBuilder text, Metric metric)
    {
        void Temporality(AggregationTemporality t) =>
            text.Append("     -> AggregationTemporality: ").Append(t.ToString().Replace("AggregationTemporality", "")).Append('\n');

        void Common(string kind, int index, RepeatedField<KeyValue> attributes, ulong start, ulong time)
        {
            text.Append(kind).Append(" #").Append(index).Append('\n');
            Attributes(text, "Data point attributes:", attributes, "     -> ");
            text.Append("StartTimestamp: ").Append(Time(start)).Append('\n');
            text.Append("Timestamp: ").Append(Time(time)).Append('\n');
        }

        switch (metric.DataCase)
        {
            case Metric.DataOneofCase.Gauge:
                for (var i = 0; i < metric.Gauge.DataPoints.Count; i++)
                {
                    var p = metric.Gauge.DataPoints[i];
                    Common("NumberDataPoints", i, p.Attributes, p.StartTimeUnixNano, p.TimeUnixNano);
                    text.Append("Value: ").Append(NumberValue(p)).Append('\n');
                }
                break;
            case Metric.DataOneofCase.Sum:
                text.Append("     -> IsMonotonic: ").Append(metric.Sum.IsMonotonic ? "true" : "false").Append('\n');
                Temporality(metric.Sum.AggregationTemporality);
                for (var i = 0; i < metric.Sum.DataPoints.Count; i++)
                {
                    var p = metric.Sum.DataPoints[i];
                    Common("NumberDataPoints", i, p.Attributes, p.StartTimeUnixNano, p.TimeUnixNano);
                    text.Append("Value: ").Append(NumberValue(p)).Append('\n');
                }
                break;
            case Metric.DataOneofCase.Histogram:
                Temporality(metric.Histogram.AggregationTemporality);
                for (var i = 0; i < metric.Histogram.DataPoints.Count; i++)
                {
                    var p = metric.Histogram.DataPoints[i];
                    Common("HistogramDataPoints", i, p.Attributes, p.StartTimeUnixNano, p.TimeUnixNano);
                    text.Append("Count: ").Append(p.Count).Append('\n');
                    if (p.HasSum) text.Append("Sum: ").Append(Number(p.Sum)).Append('\n');
                    if (p.HasMin) text.Append("Min: ").Append(Number(p.Min)).Append('\n');
                    if (p.HasMax) text.Append("Max: ").Append(Number(p.Max)).Append('\n');
                    for (var b = 0; b < p.ExplicitBounds.Count; b++) text.Append("ExplicitBounds #").Append(b).Append(": ").Append(Number(p.ExplicitBounds[b])).Append('\n');
                    for (var b = 0; b < p.BucketCounts.Count; b++) text.Append("Buckets #").Append(b).Append(", Count: ").Append(p.BucketCounts[b]).Append('\n');
                }
                break;
            case Metric.DataOneofCase.ExponentialHistogram:
                Temporality(metric.ExponentialHistogram.AggregationTemporality);
                for (var i = 0; i < metric.ExponentialHistogram.DataPoints.Count; i++)
                {
                    var p = metric.ExponentialHistogram.DataPoints[i];
                    Common("ExponentialHistogramDataPoints", i, p.Attributes, p.StartTimeUnixNano, p.TimeUnixNano);
                    text.Append("Count: ").Append(p.Count).Append('\n');
                    if (p.HasSum) text.Append("Sum: ").Append(Number(p.Sum)).Append('\n');
                    if (p.HasMin) text.Append("Min: ").Append(Number(p.Min)).Append('\n');
                    if (p.HasMax) text.Append("Max: ").Append(Number(p.Max)).Append('\n');
                    text.Append("Scale: ").Append(p.Scale).Append('\n').Append("ZeroCount: ").Append(p.ZeroCount).Append('\n');
                    if (p.Positive is { } pos) text.Append("Positive: offset ").Append(pos.Offset).Append(", counts [").Append(string.Join(',', pos.BucketCounts)).Append("]\n");
                    if (p.Negative is { } neg) text.Append("Negative: offset ").Append(neg.Offset).Append(", counts [").Append(string.Join(',', neg.BucketCounts)).Append("]\n");
                }
                break;
            case Metric.DataOneofCase.Summary:
                for (var i = 0; i < metric.Summary.DataPoints.Count; i++)
                {
                    var p = metric.Summary.DataPoints[i];
                    Common("SummaryDataPoints", i, p.Attributes, p.StartTimeUnixNano, p.TimeUnixNano);
                    text.Append("Count: ").Append(p.Count).Append('\n').Append("Sum: ").Append(Number(p.Sum)).Append('\n');
                    for (var q = 0; q < p.QuantileValues.Count; q++)
                        text.Append("QuantileValue #").Append(q).Append(": Quantile ").Append(Number(p.QuantileValues[q].Quantile)).Append(", Value ").Append(Number(p.QuantileValues[q].Value)).Append('\n');
                }
                break;
        }
    }

    private static void DetailedLogs(StringBuilder text, ExportLogsServiceRequest logs)
    {
        for (var r = 0; r < logs.ResourceLogs.Count; r++)
        {
            var rl = logs.ResourceLogs[r];
            ResourceHeader(text, "ResourceLog", r, rl.SchemaUrl, rl.Resource);
            for (var s = 0; s < rl.ScopeLogs.Count; s++)
            {
                var sl = rl.ScopeLogs[s];
                ScopeHeader(text, "ScopeLogs", s, sl.SchemaUrl, sl.Scope);
                for (var i = 0; i < sl.LogRecords.Count; i++)
                {
                    var record = sl.LogRecords[i];
                    text.Append("LogRecord #").Append(i).Append('\n');
                    text.Append("ObservedTimestamp: ").Append(Time(record.ObservedTimeUnixNano)).Append('\n');
                    text.Append("Timestamp: ").Append(Time(record.TimeUnixNano)).Append('\n');
                    text.Append("SeverityText: ").Append(record.SeverityText).Append('\n');
                    text.Append("SeverityNumber: ").Append(SeverityName(record.SeverityNumber)).Append('(').Append((int)record.SeverityNumber).Append(")\n");
                    if (record.EventName.Length > 0) text.Append("EventName: ").Append(record.EventName).Append('\n');
                    text.Append("Body: ").Append(TypedValue(record.Body)).Append('\n');
                    Attributes(text, "Attributes:", record.Attributes, "     -> ");
                    text.Append("Trace ID: ").Append(Hex(record.TraceId)).Append('\n');
                    text.Append("Span ID: ").Append(Hex(record.SpanId)).Append('\n');
                    text.Append("Flags: ").Append(record.Flags).Append('\n');
                }
            }
        }
    }

    private static void ResourceHeader(StringBuilder text, string kind, int index, string schemaUrl, Resource? resource)
    {
        text.Append(kind).Append(" #").Append(index).Append('\n');
        text.Append("Resource SchemaURL: ").Append(schemaUrl).Append('\n');
        if (resource is not null) Attributes(text, "Resource attributes:", resource.Attributes, "     -> ");
    }

    private static void ScopeHeader(StringBuilder text, string kind, int index, string schemaUrl, InstrumentationScope? scope)
    {
        text.Append(kind).Append(" #").Append(index).Append('\n');
        text.Append(kind).Append(" SchemaURL: ").Append(schemaUrl).Append('\n');
        text.Append("InstrumentationScope ").Append(scope?.Name).Append(' ').Append(scope?.Version).Append('\n');
        if (scope is not null) Attributes(text, "InstrumentationScope attributes:", scope.Attributes, "     -> ");
    }

    private static void Field(StringBuilder text, string name, string value) => text.Append("    ").Append(name).Append(": ").Append(value).Append('\n');

    private static void Attributes(StringBuilder text, string heading, RepeatedField<KeyValue> attributes, string indent)
    {
        if (attributes.Count == 0) return;
        text.Append(heading).Append('\n');
        foreach (var attribute in attributes)
            text.Append(indent).Append(attribute.Key).Append(": ").Append(TypedValue(attribute.Value)).Append('\n');
    }

    private static string InlineAttributes(RepeatedField<KeyValue> attributes, string separator) =>
        attributes.Count == 0 ? "" : separator + string.Join(' ', attributes.Select(a => $"{a.Key}={OneLine(a.Value.AsString())}"));

    /// <summary>pcommon's typed rendering: Str(x), Int(1), Double(1.5), Bool(true), Bytes(...), Slice([...]), Map({...}), Empty().</summary>
    private static string TypedValue(AnyValue? value) => value?.ValueCase switch
    {
        AnyValue.ValueOneofCase.StringValue => $"Str({value.StringValue})",
        AnyValue.ValueOneofCase.IntValue => $"Int({value.IntValue})",
        AnyValue.ValueOneofCase.DoubleValue => $"Double({Number(value.DoubleValue)})",
        AnyValue.ValueOneofCase.BoolValue => $"Bool({(value.BoolValue ? "true" : "false")})",
        AnyValue.ValueOneofCase.BytesValue => $"Bytes({value.BytesValue.ToBase64()})",
        AnyValue.ValueOneofCase.ArrayValue => $"Slice({value.AsString()})",
        AnyValue.ValueOneofCase.KvlistValue => $"Map({value.AsString()})",
        _ => "Empty()",
    };

    private static string NumberValue(NumberDataPoint point) => point.ValueCase switch
    {
        NumberDataPoint.ValueOneofCase.AsInt => point.AsInt.ToString(CultureInfo.InvariantCulture),
        NumberDataPoint.ValueOneofCase.AsDouble => Number(point.AsDouble),
        _ => "",
    };

    /// <summary>" min=… max=…" for the bounds a point has (an absent one is not 0).</summary>
    private static string MinMax(bool hasMin, double min, bool hasMax, double max) =>
        (hasMin ? $" min={Number(min)}" : "") + (hasMax ? $" max={Number(max)}" : "");

    /// <summary>normal verbosity is one line per item: line breaks inside a value are shown as \n.</summary>
    private static string OneLine(string text) => text.Contains('\n') || text.Contains('\r') ? text.Replace("\r", "\\r").Replace("\n", "\\n") : text;

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Hex(ByteString id) => Convert.ToHexStringLower(id.Span);

    /// <summary>Go's time.Time String() in UTC: "2020-02-11 20:26:12.000000321 +0000 UTC" (fraction trimmed).</summary>
    internal static string Time(ulong unixNanos)
    {
        var seconds = (long)(unixNanos / 1_000_000_000UL);
        var nanos = (long)(unixNanos % 1_000_000_000UL);
        var text = DateTimeOffset.FromUnixTimeSeconds(seconds).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        if (nanos != 0) text += "." + nanos.ToString("D9", CultureInfo.InvariantCulture).TrimEnd('0');
        return text + " +0000 UTC";
    }

    private static string KindName(Span.Types.SpanKind kind) => kind switch
    {
        Span.Types.SpanKind.Internal => "Internal",
        Span.Types.SpanKind.Server => "Server",
        Span.Types.SpanKind.Client => "Client",
        Span.Types.SpanKind.Producer => "Producer",
        Span.Types.SpanKind.Consumer => "Consumer",
        _ => "Unspecified",
    };

    private static string StatusName(Status.Types.StatusCode code) => code switch
    {
        Status.Types.StatusCode.Ok => "Ok",
        Status.Types.StatusCode.Error => "Error",
        _ => "Unset",
    };

    private static string SeverityName(SeverityNumber severity) =>
        severity == SeverityNumber.Unspecified ? "Unspecified" : severity.ToString();
}
