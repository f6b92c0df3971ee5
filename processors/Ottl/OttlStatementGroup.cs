using Google.Protobuf;
using Microsoft.Extensions.Logging;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Metrics.V1;
using OtelAi.Otlp.Proto.Resource.V1;

namespace OtelAi.Processors.Ottl;

/// <summary>
/// Statements that run together in one context with one error_mode, optionally guarded by group conditions
/// (ORed): the transform processor's unit of work.
/// </summary>
public sealed class OttlStatementGroup
{
    private readonly OttlStatement[] _statements;
    private readonly OttlCondition[] _conditions;
    private readonly ILogger _logger;

    public OttlStatementGroup(OttlContextKind context, IReadOnlyList<OttlStatement> statements, IReadOnlyList<OttlCondition> conditions,
        ErrorMode errorMode, ILogger logger)
    {
        Context = context;
        _statements = statements.ToArray();
        _conditions = conditions.ToArray();
        ErrorMode = errorMode;
        _logger = logger;
    }

    public OttlContextKind Context { get; }

    public ErrorMode ErrorMode { get; }

    public IReadOnlyList<OttlStatement> Statements => _statements;

    /// <summary>Runs the group on the item currently in <paramref name="context"/>.</summary>
    public void Execute(OttlContext context)
    {
        context.ResetCache(Context);
        if (_conditions.Length > 0 && !AnyConditionMatches(context)) return;
        for (var iStatement = 0; iStatement < _statements.Length; iStatement++)
        {
            var statement = _statements[iStatement];
            try
            {
                statement.Execute(context);
            }
            catch (OttlRuntimeException e)
            {
                OttlLanguage.HandleError(ErrorMode, _logger, "statement", statement.Text, e);
            }
        }
    }

    private bool AnyConditionMatches(OttlContext context)
    {
        for (var iCondition = 0; iCondition < _conditions.Length; iCondition++)
        {
            var condition = _conditions[iCondition];
            try
            {
                if (condition.Evaluate(context)) return true;
            }
            catch (OttlRuntimeException e)
            {
                OttlLanguage.HandleError(ErrorMode, _logger, "condition", condition.Text, e);
            }
        }
        return false;
    }

    /// <summary>Runs the group over every item of its context in a payload.</summary>
    public void ExecuteOn<T>(T data, OttlContext context) where T : class, IMessage<T>, new()
    {
        switch (data)
        {
            case ExportTraceServiceRequest traces: OnTraces(traces, context); break;
            case ExportMetricsServiceRequest metrics: OnMetrics(metrics, context); break;
            case ExportLogsServiceRequest logs: OnLogs(logs, context); break;
            default: throw new NotSupportedException($"{typeof(T)} is not a pipeline payload type");
        }
    }

    private void OnTraces(ExportTraceServiceRequest data, OttlContext context)
    {
        for (var iRs = 0; iRs < data.ResourceSpans.Count; iRs++)
        {
            var rs = data.ResourceSpans[iRs];
            context.Resource = rs.Resource ??= new Resource();
            if (Context == OttlContextKind.Resource) { Execute(context); continue; }
            for (var iSs = 0; iSs < rs.ScopeSpans.Count; iSs++)
            {
                var ss = rs.ScopeSpans[iSs];
                context.Scope = ss.Scope ??= new InstrumentationScope();
                if (Context == OttlContextKind.Scope) { Execute(context); continue; }
                for (var iSpan = 0; iSpan < ss.Spans.Count; iSpan++)
                {
                    var span = ss.Spans[iSpan];
                    context.Span = span;
                    if (Context == OttlContextKind.Span) { Execute(context); continue; }
                    for (var iSpanEvent = 0; iSpanEvent < span.Events.Count; iSpanEvent++)
                    {
                        var spanEvent = span.Events[iSpanEvent];
                        context.SpanEvent = spanEvent;
                        Execute(context);
                    }
                }
            }
        }
    }

    private void OnMetrics(ExportMetricsServiceRequest data, OttlContext context)
    {
        for (var iRm = 0; iRm < data.ResourceMetrics.Count; iRm++)
        {
            var rm = data.ResourceMetrics[iRm];
            context.Resource = rm.Resource ??= new Resource();
            if (Context == OttlContextKind.Resource) { Execute(context); continue; }
            for (var iSm = 0; iSm < rm.ScopeMetrics.Count; iSm++)
            {
                var sm = rm.ScopeMetrics[iSm];
                context.Scope = sm.Scope ??= new InstrumentationScope();
                if (Context == OttlContextKind.Scope) { Execute(context); continue; }
                for (var iMetric = 0; iMetric < sm.Metrics.Count; iMetric++)
                {
                    var metric = sm.Metrics[iMetric];
                    context.Metric = metric;
                    if (Context == OttlContextKind.Metric) { Execute(context); continue; }
                    switch (metric.DataCase)
                    {
                        case Metric.DataOneofCase.Gauge: OnPoints(metric.Gauge.DataPoints, context); break;
                        case Metric.DataOneofCase.Sum: OnPoints(metric.Sum.DataPoints, context); break;
                        case Metric.DataOneofCase.Histogram: OnPoints(metric.Histogram.DataPoints, context); break;
                        case Metric.DataOneofCase.ExponentialHistogram: OnPoints(metric.ExponentialHistogram.DataPoints, context); break;
                        case Metric.DataOneofCase.Summary: OnPoints(metric.Summary.DataPoints, context); break;
                    }
                }
            }
        }
    }

    private void OnPoints<TPoint>(Google.Protobuf.Collections.RepeatedField<TPoint> points, OttlContext context) where TPoint : class
    {
        for (var iPoint = 0; iPoint < points.Count; iPoint++)
        {
            var point = points[iPoint];
            context.DataPoint = point;
            Execute(context);
        }
    }

    private void OnLogs(ExportLogsServiceRequest data, OttlContext context)
    {
        for (var iRl = 0; iRl < data.ResourceLogs.Count; iRl++)
        {
            var rl = data.ResourceLogs[iRl];
            context.Resource = rl.Resource ??= new Resource();
            if (Context == OttlContextKind.Resource) { Execute(context); continue; }
            for (var iSl = 0; iSl < rl.ScopeLogs.Count; iSl++)
            {
                var sl = rl.ScopeLogs[iSl];
                context.Scope = sl.Scope ??= new InstrumentationScope();
                if (Context == OttlContextKind.Scope) { Execute(context); continue; }
                for (var iLog = 0; iLog < sl.LogRecords.Count; iLog++)
                {
                    var log = sl.LogRecords[iLog];
                    context.Log = log;
                    Execute(context);
                }
            }
        }
    }
}
