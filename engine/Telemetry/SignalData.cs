using Google.Protobuf;
using OtelAi.Proto.Collector.Logs.V1;
using OtelAi.Proto.Collector.Metrics.V1;
using OtelAi.Proto.Collector.Trace.V1;
using OtelAi.Proto.Logs.V1;
using OtelAi.Proto.Metrics.V1;
using OtelAi.Proto.Trace.V1;

namespace OtelAi.Engine.Telemetry;

/// <summary>
/// What generic pipeline code needs to know about one signal's payload type.
/// Pipelines carry the OTLP export request messages themselves, so a receiver hands over
/// what it decoded without conversion. <see cref="SignalData{T}.Ops"/> gives the instance for T.
/// </summary>
public abstract class SignalData<T> where T : class, IMessage<T>, new()
{
    public static SignalData<T> Ops { get; } = CreateOps();

    public abstract Signal Signal { get; }

    /// <summary>
    /// Parses a payload entering the pipeline. Unknown fields are discarded, as otelcol's pdata does: pipeline data
    /// never carries them, and OtlpProtobuf (which writes only the fields our protos declare) stays byte-exact.
    /// </summary>
    public abstract MessageParser<T> Parser { get; }

    /// <summary>Spans, metric data points or log records in the payload.</summary>
    public abstract int CountItems(T data);

    /// <summary>Number of resource-level entries (ResourceSpans, ResourceMetrics, ResourceLogs).</summary>
    public abstract int ResourceCount(T data);

    /// <summary>Moves every resource entry of <paramref name="source"/> to the end of <paramref name="destination"/>.</summary>
    public abstract void MoveAllTo(T source, T destination);

    /// <summary>
    /// Removes up to <paramref name="maxItems"/> items from the front of <paramref name="data"/> and returns them as a
    /// new payload, splitting resource and scope entries where needed (resource and scope are copied to both halves).
    /// </summary>
    public abstract T SplitOff(T data, int maxItems);

    private static SignalData<T> CreateOps()
    {
        object ops = typeof(T) switch
        {
            var t when t == typeof(ExportTraceServiceRequest) => new TracesData(),
            var t when t == typeof(ExportMetricsServiceRequest) => new MetricsData(),
            var t when t == typeof(ExportLogsServiceRequest) => new LogsData(),
            _ => throw new NotSupportedException($"{typeof(T)} is not a pipeline payload type"),
        };
        return (SignalData<T>)ops;
    }

    private sealed class TracesData : SignalData<ExportTraceServiceRequest>
    {
        public override Signal Signal => Signal.Traces;
        public override MessageParser<ExportTraceServiceRequest> Parser { get; } = ExportTraceServiceRequest.Parser.WithDiscardUnknownFields(true);
        public override int ResourceCount(ExportTraceServiceRequest data) => data.ResourceSpans.Count;

        public override int CountItems(ExportTraceServiceRequest data)
        {
            var n = 0;
            foreach (var rs in data.ResourceSpans)
                foreach (var ss in rs.ScopeSpans)
                    n += ss.Spans.Count;
            return n;
        }

        public override void MoveAllTo(ExportTraceServiceRequest source, ExportTraceServiceRequest destination)
        {
            destination.ResourceSpans.Add(source.ResourceSpans);
            source.ResourceSpans.Clear();
        }

        public override ExportTraceServiceRequest SplitOff(ExportTraceServiceRequest data, int maxItems)
        {
            var head = new ExportTraceServiceRequest();
            Splitter.SplitOff(data.ResourceSpans, head.ResourceSpans, maxItems,
                rs => rs.ScopeSpans,
                rs => new ResourceSpans { Resource = rs.Resource?.Clone(), SchemaUrl = rs.SchemaUrl },
                ss => ss.Spans,
                ss => new ScopeSpans { Scope = ss.Scope?.Clone(), SchemaUrl = ss.SchemaUrl });
            return head;
        }
    }

    private sealed class MetricsData : SignalData<ExportMetricsServiceRequest>
    {
        public override Signal Signal => Signal.Metrics;
        public override MessageParser<ExportMetricsServiceRequest> Parser { get; } = ExportMetricsServiceRequest.Parser.WithDiscardUnknownFields(true);
        public override int ResourceCount(ExportMetricsServiceRequest data) => data.ResourceMetrics.Count;

        public override int CountItems(ExportMetricsServiceRequest data)
        {
            var n = 0;
            foreach (var rm in data.ResourceMetrics)
                foreach (var sm in rm.ScopeMetrics)
                    foreach (var m in sm.Metrics)
                        n += MetricPoints.Count(m);
            return n;
        }

        public override void MoveAllTo(ExportMetricsServiceRequest source, ExportMetricsServiceRequest destination)
        {
            destination.ResourceMetrics.Add(source.ResourceMetrics);
            source.ResourceMetrics.Clear();
        }

        // Metrics split at metric granularity, and a metric with more points than the budget is split by points.
        public override ExportMetricsServiceRequest SplitOff(ExportMetricsServiceRequest data, int maxItems)
        {
            var head = new ExportMetricsServiceRequest();
            var budget = maxItems;
            var takenResources = 0;
            while (budget > 0 && takenResources < data.ResourceMetrics.Count)
            {
                var rm = data.ResourceMetrics[takenResources];
                var headRm = new ResourceMetrics { Resource = rm.Resource?.Clone(), SchemaUrl = rm.SchemaUrl };
                var takenScopes = 0;
                while (budget > 0 && takenScopes < rm.ScopeMetrics.Count)
                {
                    var sm = rm.ScopeMetrics[takenScopes];
                    var headSm = new ScopeMetrics { Scope = sm.Scope?.Clone(), SchemaUrl = sm.SchemaUrl };
                    var takenMetrics = 0;
                    while (budget > 0 && takenMetrics < sm.Metrics.Count)
                    {
                        var metric = sm.Metrics[takenMetrics];
                        var points = MetricPoints.Count(metric);
                        if (points <= budget)
                        {
                            headSm.Metrics.Add(metric);
                            takenMetrics++;
                            budget -= Math.Max(points, 1);
                        }
                        else
                        {
                            headSm.Metrics.Add(MetricPoints.SplitOff(metric, budget));
                            budget = 0;
                        }
                    }
                    Splitter.RemoveFirst(sm.Metrics, takenMetrics);
                    headRm.ScopeMetrics.Add(headSm);
                    if (sm.Metrics.Count == 0) takenScopes++;
                }
                Splitter.RemoveFirst(rm.ScopeMetrics, takenScopes);
                head.ResourceMetrics.Add(headRm);
                if (rm.ScopeMetrics.Count == 0) takenResources++;
            }
            Splitter.RemoveFirst(data.ResourceMetrics, takenResources);
            return head;
        }
    }

    private sealed class LogsData : SignalData<ExportLogsServiceRequest>
    {
        public override Signal Signal => Signal.Logs;
        public override MessageParser<ExportLogsServiceRequest> Parser { get; } = ExportLogsServiceRequest.Parser.WithDiscardUnknownFields(true);
        public override int ResourceCount(ExportLogsServiceRequest data) => data.ResourceLogs.Count;

        public override int CountItems(ExportLogsServiceRequest data)
        {
            var n = 0;
            foreach (var rl in data.ResourceLogs)
                foreach (var sl in rl.ScopeLogs)
                    n += sl.LogRecords.Count;
            return n;
        }

        public override void MoveAllTo(ExportLogsServiceRequest source, ExportLogsServiceRequest destination)
        {
            destination.ResourceLogs.Add(source.ResourceLogs);
            source.ResourceLogs.Clear();
        }

        public override ExportLogsServiceRequest SplitOff(ExportLogsServiceRequest data, int maxItems)
        {
            var head = new ExportLogsServiceRequest();
            Splitter.SplitOff(data.ResourceLogs, head.ResourceLogs, maxItems,
                rl => rl.ScopeLogs,
                rl => new ResourceLogs { Resource = rl.Resource?.Clone(), SchemaUrl = rl.SchemaUrl },
                sl => sl.LogRecords,
                sl => new ScopeLogs { Scope = sl.Scope?.Clone(), SchemaUrl = sl.SchemaUrl });
            return head;
        }
    }
}

/// <summary>The resource → scope → item split shared by traces and logs.</summary>
internal static class Splitter
{
    public static void SplitOff<TResource, TScope, TItem>(
        Google.Protobuf.Collections.RepeatedField<TResource> source,
        Google.Protobuf.Collections.RepeatedField<TResource> head,
        int maxItems,
        Func<TResource, Google.Protobuf.Collections.RepeatedField<TScope>> scopesOf,
        Func<TResource, TResource> emptyCopyOfResource,
        Func<TScope, Google.Protobuf.Collections.RepeatedField<TItem>> itemsOf,
        Func<TScope, TScope> emptyCopyOfScope)
    {
        // Walk by index and cut each list once at the end: removing element 0 repeatedly would be quadratic.
        var budget = maxItems;
        var takenResources = 0;
        while (budget > 0 && takenResources < source.Count)
        {
            var resource = source[takenResources];
            var scopes = scopesOf(resource);
            var resourceItems = ScopeItemCount(scopes, itemsOf);
            if (resourceItems <= budget)
            {
                budget -= resourceItems;
                head.Add(resource);
                takenResources++;
                continue;
            }

            // The resource does not fit whole: the head gets a copy with what fits, the rest stays in the source.
            var headResource = emptyCopyOfResource(resource);
            var headScopes = scopesOf(headResource);
            var takenScopes = 0;
            while (budget > 0 && takenScopes < scopes.Count)
            {
                var scope = scopes[takenScopes];
                var items = itemsOf(scope);
                if (items.Count <= budget)
                {
                    budget -= items.Count;
                    headScopes.Add(scope);
                    takenScopes++;
                    continue;
                }

                var headScope = emptyCopyOfScope(scope);
                var headItems = itemsOf(headScope);
                for (var i = 0; i < budget; i++) headItems.Add(items[i]);
                RemoveFirst(items, budget);
                headScopes.Add(headScope);
                budget = 0;
            }
            RemoveFirst(scopes, takenScopes);
            head.Add(headResource);
        }
        RemoveFirst(source, takenResources);
    }

    /// <summary>Removes the first <paramref name="count"/> entries in one pass.</summary>
    public static void RemoveFirst<T>(Google.Protobuf.Collections.RepeatedField<T> field, int count)
    {
        if (count <= 0) return;
        if (count >= field.Count)
        {
            field.Clear();
            return;
        }
        var rest = new T[field.Count - count];
        for (var i = 0; i < rest.Length; i++) rest[i] = field[count + i];
        field.Clear();
        field.AddRange(rest);
    }

    private static int ScopeItemCount<TScope, TItem>(
        Google.Protobuf.Collections.RepeatedField<TScope> scopes,
        Func<TScope, Google.Protobuf.Collections.RepeatedField<TItem>> itemsOf)
    {
        var n = 0;
        foreach (var scope in scopes) n += itemsOf(scope).Count;
        return n;
    }
}

/// <summary>Data point counting and splitting for one metric, whatever its type.</summary>
public static class MetricPoints
{
    public static int Count(Metric metric) => metric.DataCase switch
    {
        Metric.DataOneofCase.Gauge => metric.Gauge.DataPoints.Count,
        Metric.DataOneofCase.Sum => metric.Sum.DataPoints.Count,
        Metric.DataOneofCase.Histogram => metric.Histogram.DataPoints.Count,
        Metric.DataOneofCase.ExponentialHistogram => metric.ExponentialHistogram.DataPoints.Count,
        Metric.DataOneofCase.Summary => metric.Summary.DataPoints.Count,
        _ => 0,
    };

    /// <summary>Moves the first <paramref name="count"/> points into a new metric with the same identity.</summary>
    public static Metric SplitOff(Metric metric, int count)
    {
        var head = new Metric { Name = metric.Name, Description = metric.Description, Unit = metric.Unit };
        head.Metadata.Add(metric.Metadata);
        switch (metric.DataCase)
        {
            case Metric.DataOneofCase.Gauge:
                head.Gauge = new Gauge();
                Move(metric.Gauge.DataPoints, head.Gauge.DataPoints, count);
                break;
            case Metric.DataOneofCase.Sum:
                head.Sum = new Sum { AggregationTemporality = metric.Sum.AggregationTemporality, IsMonotonic = metric.Sum.IsMonotonic };
                Move(metric.Sum.DataPoints, head.Sum.DataPoints, count);
                break;
            case Metric.DataOneofCase.Histogram:
                head.Histogram = new Histogram { AggregationTemporality = metric.Histogram.AggregationTemporality };
                Move(metric.Histogram.DataPoints, head.Histogram.DataPoints, count);
                break;
            case Metric.DataOneofCase.ExponentialHistogram:
                head.ExponentialHistogram = new ExponentialHistogram { AggregationTemporality = metric.ExponentialHistogram.AggregationTemporality };
                Move(metric.ExponentialHistogram.DataPoints, head.ExponentialHistogram.DataPoints, count);
                break;
            case Metric.DataOneofCase.Summary:
                head.Summary = new Summary();
                Move(metric.Summary.DataPoints, head.Summary.DataPoints, count);
                break;
        }
        return head;
    }

    private static void Move<TPoint>(Google.Protobuf.Collections.RepeatedField<TPoint> from, Google.Protobuf.Collections.RepeatedField<TPoint> to, int count)
    {
        count = Math.Min(count, from.Count);
        for (var i = 0; i < count; i++) to.Add(from[i]);
        Splitter.RemoveFirst(from, count);
    }
}
