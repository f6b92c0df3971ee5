using OtelAi.Processors.Ottl;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.TestSupport;

namespace OtelAi.Ottl.Tests;

/// <summary>Contexts over SampleData payloads, and one-line compile-and-run helpers.</summary>
internal static class OttlTestContext
{
    public static (ExportTraceServiceRequest Data, OttlContext Context) Span(int spanIndex = 0)
    {
        var data = SampleData.Traces(3);
        var rs = data.ResourceSpans[0];
        var span = rs.ScopeSpans[0].Spans[spanIndex];
        var context = new OttlContext { Resource = rs.Resource, Scope = rs.ScopeSpans[0].Scope, Span = span, SpanEvent = span.Events[0] };
        return (data, context);
    }

    public static (ExportMetricsServiceRequest Data, OttlContext Context) DataPoint(int metricIndex)
    {
        var data = SampleData.Metrics(6);
        var rm = data.ResourceMetrics[0];
        var metric = rm.ScopeMetrics[0].Metrics[metricIndex];
        object point = metric.DataCase switch
        {
            OtelAi.Otlp.Proto.Metrics.V1.Metric.DataOneofCase.Gauge => metric.Gauge.DataPoints[0],
            OtelAi.Otlp.Proto.Metrics.V1.Metric.DataOneofCase.Sum => metric.Sum.DataPoints[0],
            _ => metric.Histogram.DataPoints[0],
        };
        return (data, new OttlContext { Resource = rm.Resource, Scope = rm.ScopeMetrics[0].Scope, Metric = metric, DataPoint = point });
    }

    public static (ExportLogsServiceRequest Data, OttlContext Context) Log()
    {
        var data = SampleData.Logs(2);
        var rl = data.ResourceLogs[0];
        return (data, new OttlContext { Resource = rl.Resource, Scope = rl.ScopeLogs[0].Scope, Log = rl.ScopeLogs[0].LogRecords[0] });
    }

    public static bool Run(OttlContext context, string statement, OttlContextKind kind = OttlContextKind.Span) =>
        OttlLanguage.CompileStatement(statement, kind).Execute(context);

    public static bool Eval(OttlContext context, string condition, OttlContextKind kind = OttlContextKind.Span) =>
        OttlLanguage.CompileCondition(condition, kind).Evaluate(context);

    /// <summary>Evaluates a value expression by storing it in the cache and reading it back.</summary>
    public static AnyValue? Value(OttlContext context, string expression, OttlContextKind kind = OttlContextKind.Span)
    {
        context.ResetCache(kind);
        Run(context, $"set(cache[\"result\"], {expression})", kind);
        return OtelAi.Otlp.Attributes.Get(context.Cache(kind), "result");
    }
}
