using Google.Protobuf;
using Google.Protobuf.Collections;
using Microsoft.Extensions.Logging;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Otlp;
using OtelAi.Processors.Common;
using OtelAi.Processors.Ottl;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Metrics.V1;
using OtelAi.Otlp.Proto.Resource.V1;

namespace OtelAi.Processors.Filter;

/// <summary>otelcol's <c>filter</c> processor with OTTL conditions.</summary>
public sealed class FilterProcessorFactory : ProcessorFactory<FilterConfig>
{
    public override string Type => "filter";

    protected override IEnumerable<SelfMetric> OwnSelfMetrics => ProcessorMetrics.Declared(Stability.Keys);

    public override IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; } = new Dictionary<Signal, StabilityLevel>
    {
        [Signal.Traces] = StabilityLevel.Alpha,
        [Signal.Metrics] = StabilityLevel.Alpha,
        [Signal.Logs] = StabilityLevel.Alpha,
    };

    protected override IProcessor<T> Create<T>(ComponentCreateSettings settings, FilterConfig config, ITelemetryConsumer<T> next)
    {
        var errors = new List<ConfigError>();
        var filter = CompiledFilter.Compile(config, errors);
        if (errors.Count > 0)
            throw new ArgumentException($"processor \"{settings.Id}\": " + string.Join("; ", errors.Select(e => $"{e.Path}: {e.Message}")));
        return new FilterProcessor<T>(filter, config.ErrorMode, settings.Logger, new ProcessorMetrics(settings.Metrics, settings.Id), next);
    }
}

/// <summary>
/// Drops every item for which any condition of its context is true, then removes scopes and resources left empty.
/// A payload filtered down to nothing is not passed on (otelcol's "skip processing data").
/// </summary>
internal sealed class FilterProcessor<T>(
    CompiledFilter filter, ErrorMode errorMode, ILogger logger, ProcessorMetrics metrics, ITelemetryConsumer<T> next) : IProcessor<T>
    where T : class, IMessage<T>, new()
{
    // Read-only stand-ins for a missing resource or scope: conditions never write.
    private static readonly Resource EmptyResource = new();
    private static readonly InstrumentationScope EmptyScope = new();

    private readonly OtlpSignal<T> _ops = OtlpSignal<T>.Instance;

    public ConsumerCapabilities Capabilities => ConsumerCapabilities.Mutates;

    public Task StartAsync(IComponentHost host, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task ShutdownAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask ConsumeAsync(Payload<T> payload, CancellationToken cancellationToken)
    {
        var data = payload.Edit();
        var before = _ops.CountItems(data);
        var context = new OttlContext();
        switch (data)
        {
            case ExportTraceServiceRequest traces: FilterTraces(traces, context); break;
            case ExportMetricsServiceRequest metricsData: FilterMetrics(metricsData, context); break;
            case ExportLogsServiceRequest logs: FilterLogs(logs, context); break;
        }
        var dropped = before - _ops.CountItems(data);
        if (dropped > 0) metrics.Dropped(_ops.Signal, dropped);
        return _ops.ResourceCount(data) == 0 ? ValueTask.CompletedTask : next.ConsumeAsync(payload, cancellationToken);
    }

    private bool Matches(OttlCondition[] conditions, OttlContext context)
    {
        foreach (var condition in conditions)
        {
            try
            {
                if (condition.Evaluate(context)) return true;
            }
            catch (OttlRuntimeException e)
            {
                // ignore and silent keep the item, as otelcol does when a condition errors.
                OttlLanguage.HandleError(errorMode, logger, "condition", condition.Text, e);
            }
        }
        return false;
    }

    /// <summary>The resource conditions: a resource matching any is dropped whole.</summary>
    private bool ResourceMatches(OttlCondition[] conditions, Resource? resource, OttlContext context)
    {
        context.Resource = resource ?? EmptyResource;
        return Matches(conditions, context);
    }

    private void FilterTraces(ExportTraceServiceRequest data, OttlContext context)
    {
        if (filter.TraceResources.Length + filter.Spans.Length + filter.SpanEvents.Length == 0 && filter.LegacySpans is null) return;
        if (filter.TraceResources.Length > 0) OttlFunctions.RemoveWhere(data.ResourceSpans, rs => ResourceMatches(filter.TraceResources, rs.Resource, context));
        foreach (var rs in data.ResourceSpans)
        {
            context.Resource = rs.Resource ?? EmptyResource;
            foreach (var ss in rs.ScopeSpans)
            {
                context.Scope = ss.Scope ?? EmptyScope;
                if (filter.LegacySpans is { } legacy) OttlFunctions.RemoveWhere(ss.Spans, span => !legacy.ShouldProcess(rs.Resource, ss.Scope, span));
                if (filter.Spans.Length > 0)
                    OttlFunctions.RemoveWhere(ss.Spans, span =>
                    {
                        context.Span = span;
                        return Matches(filter.Spans, context);
                    });
                if (filter.SpanEvents.Length == 0) continue;
                foreach (var span in ss.Spans)
                {
                    context.Span = span;
                    OttlFunctions.RemoveWhere(span.Events, spanEvent =>
                    {
                        context.SpanEvent = spanEvent;
                        return Matches(filter.SpanEvents, context);
                    });
                }
            }
            OttlFunctions.RemoveWhere(rs.ScopeSpans, ss => ss.Spans.Count == 0);
        }
        OttlFunctions.RemoveWhere(data.ResourceSpans, rs => rs.ScopeSpans.Count == 0);
    }

    private void FilterMetrics(ExportMetricsServiceRequest data, OttlContext context)
    {
        if (filter.MetricResources.Length + filter.Metrics.Length + filter.DataPoints.Length == 0 && filter.LegacyMetrics is null) return;
        if (filter.MetricResources.Length > 0) OttlFunctions.RemoveWhere(data.ResourceMetrics, rm => ResourceMatches(filter.MetricResources, rm.Resource, context));
        foreach (var rm in data.ResourceMetrics)
        {
            context.Resource = rm.Resource ?? EmptyResource;
            foreach (var sm in rm.ScopeMetrics)
            {
                context.Scope = sm.Scope ?? EmptyScope;
                if (filter.LegacyMetrics is { } legacy) OttlFunctions.RemoveWhere(sm.Metrics, metric => !legacy.ShouldProcess(rm.Resource, metric));
                OttlFunctions.RemoveWhere(sm.Metrics, metric =>
                {
                    context.Metric = metric;
                    if (filter.Metrics.Length > 0 && Matches(filter.Metrics, context)) return true;
                    if (filter.DataPoints.Length == 0) return false;
                    switch (metric.DataCase)
                    {
                        case Metric.DataOneofCase.Gauge: FilterPoints(metric.Gauge.DataPoints, context); break;
                        case Metric.DataOneofCase.Sum: FilterPoints(metric.Sum.DataPoints, context); break;
                        case Metric.DataOneofCase.Histogram: FilterPoints(metric.Histogram.DataPoints, context); break;
                        case Metric.DataOneofCase.ExponentialHistogram: FilterPoints(metric.ExponentialHistogram.DataPoints, context); break;
                        case Metric.DataOneofCase.Summary: FilterPoints(metric.Summary.DataPoints, context); break;
                    }
                    return MetricPoints.Count(metric) == 0;
                });
            }
            OttlFunctions.RemoveWhere(rm.ScopeMetrics, sm => sm.Metrics.Count == 0);
        }
        OttlFunctions.RemoveWhere(data.ResourceMetrics, rm => rm.ScopeMetrics.Count == 0);
    }

    private void FilterPoints<TPoint>(RepeatedField<TPoint> points, OttlContext context) where TPoint : class =>
        OttlFunctions.RemoveWhere(points, point =>
        {
            context.DataPoint = point;
            return Matches(filter.DataPoints, context);
        });

    private void FilterLogs(ExportLogsServiceRequest data, OttlContext context)
    {
        if (filter.LogResources.Length + filter.LogRecords.Length == 0 && filter.LegacyLogs is null) return;
        if (filter.LogResources.Length > 0) OttlFunctions.RemoveWhere(data.ResourceLogs, rl => ResourceMatches(filter.LogResources, rl.Resource, context));
        foreach (var rl in data.ResourceLogs)
        {
            context.Resource = rl.Resource ?? EmptyResource;
            foreach (var sl in rl.ScopeLogs)
            {
                context.Scope = sl.Scope ?? EmptyScope;
                if (filter.LegacyLogs is { } legacy) OttlFunctions.RemoveWhere(sl.LogRecords, log => !legacy.ShouldProcess(rl.Resource, sl.Scope, log));
                OttlFunctions.RemoveWhere(sl.LogRecords, log =>
                {
                    context.Log = log;
                    return Matches(filter.LogRecords, context);
                });
            }
            OttlFunctions.RemoveWhere(rl.ScopeLogs, sl => sl.LogRecords.Count == 0);
        }
        OttlFunctions.RemoveWhere(data.ResourceLogs, rl => rl.ScopeLogs.Count == 0);
    }
}
