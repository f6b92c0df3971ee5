using Google.Protobuf;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Logs.V1;
using OtelAi.Otlp.Proto.Metrics.V1;
using OtelAi.Otlp.Proto.Resource.V1;
using OtelAi.Otlp.Proto.Trace.V1;

namespace OtelAi.Receivers.Ebpf;

/// <summary>
/// Spans, metric points and log records decoded from one batch of records, grouped per traced process (one resource
/// per pid, enriched from /proc). Take* hands the requests over and starts empty ones.
/// </summary>
internal sealed class TelemetryBatch(ProcessInfoCache processes)
{
    public static readonly InstrumentationScope Scope = new() { Name = "otelai/ebpf", Version = Engine.Components.BuildInfo.Current.Version };

    private ExportTraceServiceRequest _traces = new();
    private ExportMetricsServiceRequest _metrics = new();
    private ExportLogsServiceRequest _logs = new();
    private readonly Dictionary<int, ScopeSpans> _spansByPid = [];
    private readonly Dictionary<int, ScopeLogs> _logsByPid = [];
    private readonly Dictionary<int, ScopeMetrics> _metricsByPid = [];
    private readonly Dictionary<(int Pid, string Name), Gauge> _gauges = [];

    public int SpanCount { get; private set; }
    public int MetricPointCount { get; private set; }
    public int LogRecordCount { get; private set; }

    /// <summary>The resource of <paramref name="pid"/> (0: no process known), enriched from /proc.</summary>
    private Resource NewResource(int pid)
    {
        var resource = new Resource();
        if (pid > 0) processes.Get(pid).AddResourceAttributes(resource.Attributes);
        return resource;
    }

    public ProcessInfo? Process(int pid) => pid > 0 ? processes.Get(pid) : null;

    public void Add(int pid, Span span, IEnumerable<KeyValue>? resourceAttributes = null)
    {
        if (!_spansByPid.TryGetValue(pid, out var scope) || resourceAttributes is not null)
        {
            var rs = new ResourceSpans { Resource = NewResource(pid) };
            if (resourceAttributes is not null) rs.Resource.Attributes.Add(resourceAttributes);
            scope = new ScopeSpans { Scope = Scope };
            rs.ScopeSpans.Add(scope);
            _traces.ResourceSpans.Add(rs);
            if (resourceAttributes is null) _spansByPid[pid] = scope;
        }
        scope.Spans.Add(span);
        SpanCount++;
    }

    public void Add(int pid, LogRecord log, IEnumerable<KeyValue>? resourceAttributes = null)
    {
        if (!_logsByPid.TryGetValue(pid, out var scope) || resourceAttributes is not null)
        {
            var rl = new ResourceLogs { Resource = NewResource(pid) };
            if (resourceAttributes is not null) rl.Resource.Attributes.Add(resourceAttributes);
            scope = new ScopeLogs { Scope = Scope };
            rl.ScopeLogs.Add(scope);
            _logs.ResourceLogs.Add(rl);
            if (resourceAttributes is null) _logsByPid[pid] = scope;
        }
        scope.LogRecords.Add(log);
        LogRecordCount++;
    }

    public void Add(int pid, Metric metric, int points, IEnumerable<KeyValue>? resourceAttributes = null)
    {
        if (!_metricsByPid.TryGetValue(pid, out var scope) || resourceAttributes is not null)
        {
            var rm = new ResourceMetrics { Resource = NewResource(pid) };
            if (resourceAttributes is not null) rm.Resource.Attributes.Add(resourceAttributes);
            scope = new ScopeMetrics { Scope = Scope };
            rm.ScopeMetrics.Add(scope);
            _metrics.ResourceMetrics.Add(rm);
            if (resourceAttributes is null) _metricsByPid[pid] = scope;
        }
        scope.Metrics.Add(metric);
        MetricPointCount += points;
    }

    /// <summary>
    /// Adds one gauge point to the pid's metric of that name (one metric with many points, not a metric per point:
    /// smaller requests, and the name is sent once). A point with its own resource gets a metric of its own.
    /// </summary>
    public void AddGaugePoint(int pid, string name, NumberDataPoint point, IEnumerable<KeyValue>? resourceAttributes = null)
    {
        if (resourceAttributes is null && _gauges.TryGetValue((pid, name), out var existing))
        {
            existing.DataPoints.Add(point);
            MetricPointCount++;
            return;
        }
        var gauge = new Gauge();
        gauge.DataPoints.Add(point);
        Add(pid, new Metric { Name = name, Gauge = gauge }, 1, resourceAttributes);
        if (resourceAttributes is null) _gauges[(pid, name)] = gauge;
    }

    public (ExportTraceServiceRequest Request, int Count)? TakeTraces() => Take(ref _traces, _spansByPid, SpanCount, () => SpanCount = 0);

    public (ExportMetricsServiceRequest Request, int Count)? TakeMetrics() => Take(ref _metrics, _metricsByPid, MetricPointCount, () =>
    {
        MetricPointCount = 0;
        _gauges.Clear();
    });

    public (ExportLogsServiceRequest Request, int Count)? TakeLogs() => Take(ref _logs, _logsByPid, LogRecordCount, () => LogRecordCount = 0);

    private static (T, int)? Take<T, TScope>(ref T request, Dictionary<int, TScope> index, int count, Action reset) where T : IMessage<T>, new()
    {
        if (count == 0) return null;
        var taken = request;
        request = new T();
        index.Clear();
        reset();
        return (taken, count);
    }
}

/// <summary>Turns raw records into telemetry; one implementation per layout kind.</summary>
internal interface IEventConverter
{
    /// <summary>Decodes one record into <paramref name="batch"/>; false when it is too short for the layout.</summary>
    bool TryAdd(ReadOnlySpan<byte> record, TelemetryBatch batch);

    /// <summary>Adds periodic output (aggregated metrics) to <paramref name="batch"/>.</summary>
    void Collect(TelemetryBatch batch, ulong nowUnixNs) { }
}

/// <summary>Random, non-zero trace and span ids.</summary>
internal static class Ids
{
    public static ByteString TraceId() => NonZero(16);

    public static ByteString SpanId() => NonZero(8);

    private static ByteString NonZero(int length)
    {
        Span<byte> bytes = stackalloc byte[length];
        do Random.Shared.NextBytes(bytes); while (bytes.IndexOfAnyExcept((byte)0) < 0);
        return ByteString.CopyFrom(bytes);
    }
}
