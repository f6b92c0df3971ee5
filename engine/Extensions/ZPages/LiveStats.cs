using System.Text.Json;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Engine.Service;
using OtelAi.Otlp;

namespace OtelAi.Engine.Extensions.ZPages;

/// <summary>
/// The numbers of the live page, read from counters that exist anyway (self-metrics, and the edge counts a live page
/// turns on): per node items in and out with their rates, failures, refusals, drops, queue fill and status; the
/// process's CPU, memory and GC; the panels of components that describe themselves. Rates are per second since the
/// previous reading, which the page, <c>otelai top</c> and scripts all share (a reading less than 250 ms old is reused).
/// </summary>
internal sealed class LiveStats(LiveGraph graph, ICollectorStatus status, ILiveCollector collector, TimeProvider time)
{
    private static readonly TimeSpan Reuse = TimeSpan.FromMilliseconds(250);
    private readonly Lock _lock = new();
    private Reading? _last;
    private string? _lastJson;

    private sealed record Reading(long Timestamp, double CpuSeconds, IReadOnlyDictionary<string, NodeTotals> Nodes);

    /// <summary>Counts of one node since start; <c>-1</c> where the node has no such count.</summary>
    private sealed record NodeTotals(double In, double Out, double Failed, double Refused, double Dropped, double Sent, double SendFailed,
        double EnqueueFailed, double QueueSize, double QueueCapacity, double Retries = -1, double Requests = 0, double RequestMilliseconds = 0);

    /// <summary>The current numbers as JSON (the <c>/api/v1/stats</c> body and each event of <c>/api/v1/stream</c>).</summary>
    public string Json()
    {
        lock (_lock)
        {
            var now = time.GetTimestamp();
            if (_last is not null && _lastJson is not null && time.GetElapsedTime(_last.Timestamp, now) < Reuse) return _lastJson;
            var reading = new Reading(now, Environment.CpuUsage.TotalTime.TotalSeconds,
                graph.Nodes.ToDictionary(n => n.Id, Totals, StringComparer.Ordinal));
            _lastJson = Write(reading, _last);
            _last = reading;
            return _lastJson;
        }
    }

    private NodeTotals Totals(LiveNode node)
    {
        var edges = collector.Live!.EdgeMetrics;
        var metrics = collector.Metrics;
        var id = node.Component.ToString();
        (string, string) Component = ("otelcol_component_id", id);
        (string, string) Kind = ("otelcol_component_kind", node.Kind.ToString().ToLowerInvariant());
        double Edge(string name, params (string, string)[] more) => edges.Sum(name, [Kind, Component, .. more]);
        double AllSignals(string pattern, string label) =>
            Enum.GetValues<Signal>().Sum(s => metrics.Sum(pattern.Replace("{items}", s.ItemName()), (label, id)));
        switch (node.Kind)
        {
            case ComponentKind.Receiver:
                return new NodeTotals(
                    In: AllSignals("otelcol_receiver_accepted_{items}", "receiver") + AllSignals("otelcol_receiver_refused_{items}", "receiver"),
                    Out: Edge("otelcol_receiver_produced_items", ("otelcol_component_outcome", "success")),
                    Failed: -1, Refused: AllSignals("otelcol_receiver_refused_{items}", "receiver"), Dropped: -1, Sent: -1, SendFailed: -1, EnqueueFailed: -1,
                    QueueSize: -1, QueueCapacity: -1);
            case ComponentKind.Processor:
                var pipeline = ("otelcol_pipeline_id", node.Pipeline);
                var signal = PipelineId.TryParse(node.Pipeline, out var parsed) ? parsed.Signal : Signal.Traces;
                return new NodeTotals(
                    In: Edge("otelcol_processor_consumed_items", pipeline),
                    Out: Edge("otelcol_processor_produced_items", pipeline, ("otelcol_component_outcome", "success")),
                    Failed: Edge("otelcol_processor_consumed_items", pipeline, ("otelcol_component_outcome", "failure")),
                    Refused: Edge("otelcol_processor_consumed_items", pipeline, ("otelcol_component_outcome", "refused")),
                    Dropped: metrics.Sum($"otelcol_processor_dropped_{signal.ItemName()}", ("processor", id)),
                    Sent: -1, SendFailed: -1, EnqueueFailed: -1, QueueSize: -1, QueueCapacity: -1);
            case ComponentKind.Connector:
                return new NodeTotals(
                    In: Edge("otelcol_connector_consumed_items"),
                    Out: Edge("otelcol_connector_produced_items", ("otelcol_component_outcome", "success")),
                    Failed: Edge("otelcol_connector_consumed_items", ("otelcol_component_outcome", "failure")),
                    Refused: Edge("otelcol_connector_consumed_items", ("otelcol_component_outcome", "refused")),
                    Dropped: -1, Sent: -1, SendFailed: -1, EnqueueFailed: -1, QueueSize: -1, QueueCapacity: -1);
            default:
                var (requests, milliseconds) = metrics.HistogramTotals("otelai_exporter_request_duration_milliseconds", ("exporter", id));
                // The queue gauges exist only when the exporter's sending_queue is on (its capacity is then positive).
                var queueCapacity = metrics.Sum("otelcol_exporter_queue_capacity", ("exporter", id));
                var hasQueue = queueCapacity > 0;
                return new NodeTotals(
                    In: Edge("otelcol_exporter_consumed_items"),
                    Out: AllSignals("otelcol_exporter_sent_{items}", "exporter"),
                    Failed: Edge("otelcol_exporter_consumed_items", ("otelcol_component_outcome", "failure")),
                    Refused: -1, Dropped: -1,
                    Sent: AllSignals("otelcol_exporter_sent_{items}", "exporter"),
                    SendFailed: AllSignals("otelcol_exporter_send_failed_{items}", "exporter"),
                    EnqueueFailed: AllSignals("otelcol_exporter_enqueue_failed_{items}", "exporter"),
                    QueueSize: hasQueue ? metrics.Sum("otelcol_exporter_queue_size", ("exporter", id)) : -1,
                    QueueCapacity: hasQueue ? queueCapacity : -1,
                    Retries: metrics.Sum("otelai_exporter_retries", ("exporter", id)), Requests: requests, RequestMilliseconds: milliseconds);
        }
    }

    private string Write(Reading reading, Reading? previous)
    {
        var seconds = previous is null ? 0 : time.GetElapsedTime(previous.Timestamp, reading.Timestamp).TotalSeconds;
        double Rate(double now, double? before) => seconds <= 0 || before is null || now < 0 ? 0 : Math.Max(0, (now - before.Value) / seconds);
        var health = status.ComponentHealth;
        var logs = collector.Live?.Logs;
        return JsonText.Of(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("time", time.GetUtcNow().ToString("O"));
            writer.WriteString("state", status.State.ToString());
            writer.WriteNumber("uptime_seconds", status.RunningSince is { } since ? Math.Round((time.GetUtcNow() - since).TotalSeconds, 1) : 0);
            WriteProcess(writer, reading, previous, seconds);
            writer.WriteStartArray("nodes");
            foreach (var node in graph.Nodes)
            {
                var totals = reading.Nodes[node.Id];
                var before = previous?.Nodes.GetValueOrDefault(node.Id);
                writer.WriteStartObject();
                writer.WriteString("id", node.Id);
                writer.WriteNumber("in_total", totals.In);
                writer.WriteNumber("out_total", totals.Out);
                writer.WriteNumber("in_rate", Math.Round(Rate(totals.In, before?.In), 1));
                writer.WriteNumber("out_rate", Math.Round(Rate(totals.Out, before?.Out), 1));
                void Optional(string name, double value)
                {
                    if (value >= 0) writer.WriteNumber(name, value);
                }
                Optional("failed_total", totals.Failed);
                Optional("refused_total", totals.Refused);
                Optional("dropped_total", totals.Dropped);
                Optional("sent_total", totals.Sent);
                Optional("send_failed_total", totals.SendFailed);
                Optional("enqueue_failed_total", totals.EnqueueFailed);
                Optional("queue_size", totals.QueueSize);
                Optional("queue_capacity", totals.QueueCapacity);
                Optional("retries_total", totals.Retries);
                if (node.Kind == ComponentKind.Exporter)
                {
                    // Mean time of the requests that finished since the previous reading (retries included).
                    var finished = totals.Requests - (before?.Requests ?? 0);
                    writer.WriteNumber("latency_ms", finished > 0 ? Math.Round((totals.RequestMilliseconds - (before?.RequestMilliseconds ?? 0)) / finished, 1) : 0);
                }
                var reported = health.FirstOrDefault(h => h.Kind == node.Kind && h.Id == node.Component);
                writer.WriteString("status", reported?.Status switch
                {
                    ComponentStatus.RecoverableError => "failing",
                    _ => "ok",
                });
                if (reported?.Message is { } message) writer.WriteString("status_message", message);
                writer.WriteNumber("recent_errors", logs?.Of(GraphBuilder.LogCategory(node.Kind, node.Component)).Count ?? 0);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteStartArray("panels");
            foreach (var (id, source) in Panels())
            {
                LivePanel panel;
                try { panel = source.LiveStatus(); }
                catch (Exception ex) { panel = new LivePanel(id, [new LiveField("error", ex.Message)], []); }
                WritePanel(writer, id, panel);
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        });
    }

    /// <summary>Components that describe themselves, once per component (a connector serves several routes with one state).</summary>
    private IEnumerable<(string Id, ILiveStatus Source)> Panels() =>
        collector.Components.Where(c => c.Instance is ILiveStatus)
            .DistinctBy(c => (c.Spec.Kind, c.Spec.Id))
            .Select(c => (LiveView.NodeName(c.Spec.Kind, c.Spec.Id), (ILiveStatus)c.Instance));

    private static void WriteProcess(Utf8JsonWriter writer, Reading reading, Reading? previous, double seconds)
    {
        writer.WriteStartObject("process");
        writer.WriteNumber("cpu_percent", previous is null || seconds <= 0 ? 0 : Math.Round((reading.CpuSeconds - previous.CpuSeconds) / seconds * 100, 1));
        writer.WriteNumber("rss_bytes", Environment.WorkingSet);
        writer.WriteNumber("heap_bytes", GC.GetTotalMemory(forceFullCollection: false));
        var gc = GC.GetGCMemoryInfo();
        writer.WriteNumber("gc_committed_bytes", gc.TotalCommittedBytes);
        writer.WriteNumber("gc_pause_percent", Math.Round(gc.PauseTimePercentage, 2));
        writer.WriteStartArray("gc_collections");
        for (var generation = 0; generation <= GC.MaxGeneration; generation++) writer.WriteNumberValue(GC.CollectionCount(generation));
        writer.WriteEndArray();
        writer.WriteNumber("threads", ThreadPool.ThreadCount);
        writer.WriteEndObject();
    }

    private static void WritePanel(Utf8JsonWriter writer, string component, LivePanel panel)
    {
        writer.WriteStartObject();
        writer.WriteString("component", component);
        writer.WriteString("title", panel.Title);
        writer.WriteStartArray("fields");
        foreach (var field in panel.Fields)
        {
            writer.WriteStartObject();
            writer.WriteString("name", field.Name);
            writer.WriteString("value", field.Value);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteStartArray("tables");
        foreach (var table in panel.Tables)
        {
            writer.WriteStartObject();
            writer.WriteString("title", table.Title);
            writer.WriteStartArray("columns");
            foreach (var column in table.Columns) writer.WriteStringValue(column);
            writer.WriteEndArray();
            writer.WriteStartArray("rows");
            foreach (var row in table.Rows)
            {
                writer.WriteStartArray();
                foreach (var cell in row) writer.WriteStringValue(cell);
                writer.WriteEndArray();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}
