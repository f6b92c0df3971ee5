using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Service;
using OtelAi.Otlp;

namespace OtelAi.Engine.Extensions.ZPages;

/// <summary>
/// The JSON API the live page, <c>otelai top</c> and <c>otelai tap</c> use (documented in the README):
/// <list type="bullet">
/// <item><c>GET /api/v1/graph</c>: pipelines, nodes and edges.</item>
/// <item><c>GET /api/v1/stats</c>: per node totals, rates and status; process CPU, memory, GC; component panels.</item>
/// <item><c>GET /api/v1/stream</c>: the stats as server-sent events (<c>event: stats</c>), one a second.</item>
/// <item><c>GET /api/v1/components/KIND/ID</c>: a component's effective config (secrets redacted), status and recent warnings.</item>
/// <item><c>GET /api/v1/tap?component=KIND/ID[&amp;pipeline=P][&amp;where=OTTL][&amp;count=N]</c>: a live sample of what
/// the component outputs (an exporter: what it receives), as server-sent events (<c>event: item</c>).</item>
/// </list>
/// </summary>
internal sealed class LiveApi
{
    private static readonly TimeSpan StreamInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

    private readonly ICollectorStatus _status;
    private readonly ILiveCollector _collector;
    private readonly TapConfig _tap;
    private readonly TapLimits _tapLimits;
    private readonly ILogger _logger;
    private readonly LiveGraph _graph;
    private readonly LiveStats _stats;

    public LiveApi(ICollectorStatus status, ILiveCollector collector, TapConfig tap, ILogger logger)
    {
        _status = status;
        _collector = collector;
        _tap = tap;
        _tapLimits = tap.Limits();
        _logger = logger;
        _graph = LiveGraph.Of(status.Config);
        _stats = new LiveStats(_graph, status, collector, TimeProvider.System);
    }

    public Task HandleAsync(HttpContext context, string path, CancellationToken stopping)
    {
        if (path == "/api/v1/graph") return WriteJsonAsync(context, _graph.WriteJson);
        if (path == "/api/v1/stats") return WriteTextAsync(context, "application/json", _stats.Json());
        if (path == "/api/v1/stream") return StreamStatsAsync(context, stopping);
        if (path == "/api/v1/tap") return TapAsync(context, stopping);
        const string components = "/api/v1/components/";
        if (path.StartsWith(components, StringComparison.Ordinal)) return ComponentAsync(context, path[components.Length..]);
        return ErrorAsync(context, StatusCodes.Status404NotFound, $"no such API path {path}; see /api/v1/graph, /api/v1/stats, /api/v1/stream, /api/v1/components/KIND/ID, /api/v1/tap");
    }

    private async Task StreamStatsAsync(HttpContext context, CancellationToken stopping)
    {
        using var ending = CancellationTokenSource.CreateLinkedTokenSource(stopping, context.RequestAborted);
        StartEventStream(context);
        try
        {
            while (!ending.IsCancellationRequested)
            {
                await WriteEventAsync(context, "stats", _stats.Json(), ending.Token);
                await Task.Delay(StreamInterval, ending.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // The page was closed or the collector is stopping.
        }
    }

    private async Task TapAsync(HttpContext context, CancellationToken stopping)
    {
        var query = context.Request.Query;
        var component = query["component"].ToString();
        var pipeline = query["pipeline"].Count > 0 ? query["pipeline"].ToString() : null;
        var where = query["where"].ToString();
        var count = int.TryParse(query["count"], out var n) && n > 0 ? n : int.MaxValue;
        var taps = _collector.Live?.Taps;
        if (taps is null)
        {
            await ErrorAsync(context, StatusCodes.Status404NotFound, "this collector was built without a live page");
            return;
        }
        var points = taps.PointsOf(component, pipeline);
        if (points.Count == 0)
        {
            await ErrorAsync(context, StatusCodes.Status404NotFound,
                $"no tap point \"{component}\"{(pipeline is null ? "" : $" in pipeline \"{pipeline}\"")}; components: {string.Join(", ", taps.Components.Order(StringComparer.Ordinal))}");
            return;
        }
        var matchers = new Dictionary<Signal, TapItemMatcher?>();
        if (where.Length > 0)
        {
            if (_collector.Registry.TapConditions is not { } compiler)
            {
                await ErrorAsync(context, StatusCodes.Status400BadRequest, "this build has no condition language for taps");
                return;
            }
            var errors = new List<string>();
            foreach (var signal in points.Select(p => p.Signal).Distinct())
            {
                try { matchers[signal] = compiler.Compile(where, signal); }
                catch (FormatException ex) { errors.Add($"{signal.ToConfigName()}: {ex.Message}"); }
            }
            if (matchers.Count == 0)
            {
                await ErrorAsync(context, StatusCodes.Status400BadRequest, $"invalid where condition: {string.Join("; ", errors)}");
                return;
            }
            points = [.. points.Where(p => matchers.ContainsKey(p.Signal))];
        }
        else
        {
            foreach (var point in points) matchers[point.Signal] = null;
        }

        var subscription = new TapSubscription(signal => matchers.GetValueOrDefault(signal), _tapLimits);
        using var opened = taps.TryOpen(subscription, points, _tap.MaxOpen);
        if (opened is null)
        {
            context.Response.Headers.RetryAfter = "5";
            await ErrorAsync(context, StatusCodes.Status429TooManyRequests, $"{_tap.MaxOpen} taps are open already (tap.max_open)");
            return;
        }
        _logger.LogInformation("tap opened on {Component}{Where}", component, where.Length > 0 ? $" where {where}" : "");
        using var ending = CancellationTokenSource.CreateLinkedTokenSource(stopping, context.RequestAborted);
        StartEventStream(context);
        var shown = 0;
        try
        {
            await WriteEventAsync(context, "open", JsonText.Of(w =>
            {
                w.WriteStartObject();
                w.WriteString("component", component);
                w.WriteStartArray("points");
                foreach (var point in points) w.WriteStringValue(point.Pipeline.Length > 0 ? $"{point.Pipeline}" : point.Signal.ToConfigName());
                w.WriteEndArray();
                w.WriteNumber("max_items_per_second", _tapLimits.ItemsPerSecond);
                w.WriteEndObject();
            }), ending.Token);
            while (shown < count && !ending.IsCancellationRequested)
            {
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(ending.Token);
                wait.CancelAfter(KeepAlive);
                try
                {
                    var item = await subscription.Events.ReadAsync(wait.Token);
                    await WriteEventAsync(context, "item", item, ending.Token);
                    shown++;
                }
                catch (OperationCanceledException) when (!ending.IsCancellationRequested)
                {
                    await context.Response.WriteAsync($": {subscription.Dropped} dropped for a slow reader\n\n", ending.Token);
                    await context.Response.Body.FlushAsync(ending.Token);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The reader went away or the collector is stopping.
        }
        catch (System.Threading.Channels.ChannelClosedException)
        {
        }
    }

    private Task ComponentAsync(HttpContext context, string name)
    {
        var at = name.IndexOf('@');
        if (at >= 0) name = name[..at];
        var node = _graph.Nodes.FirstOrDefault(n => n.Name == name);
        ComponentKind kind;
        ComponentId id;
        if (node is not null) (kind, id) = (node.Kind, node.Component);
        else if (name.StartsWith("extension/", StringComparison.Ordinal) && ComponentId.TryParse(name["extension/".Length..], out var extension, out _)
                 && _status.Config.Extensions.ContainsKey(extension)) (kind, id) = (ComponentKind.Extension, extension);
        else return ErrorAsync(context, StatusCodes.Status404NotFound, $"no component \"{name}\"; components: {string.Join(", ", _graph.Nodes.Select(n => n.Name).Distinct())}");

        var reported = _status.ComponentHealth.FirstOrDefault(h => h.Kind == kind && h.Id == id);
        var logs = _collector.Live?.Logs.Of(GraphBuilder.LogCategory(kind, id)) ?? [];
        return WriteJsonAsync(context, w =>
        {
            w.WriteStartObject();
            w.WriteString("component", LiveView.NodeName(kind, id));
            w.WriteString("kind", kind.ToString().ToLowerInvariant());
            w.WriteString("config", ConfigYaml(kind, id));
            w.WriteString("status", reported?.Status.ToString() ?? "OK");
            if (reported?.Message is { } message) w.WriteString("status_message", message);
            w.WriteStartArray("pipelines");
            foreach (var (pipeline, config) in _status.Config.Pipelines)
                if (config.Receivers.Contains(id) && kind is ComponentKind.Receiver or ComponentKind.Connector
                    || config.Processors.Contains(id) && kind == ComponentKind.Processor
                    || config.Exporters.Contains(id) && kind is ComponentKind.Exporter or ComponentKind.Connector)
                    w.WriteStringValue(pipeline.ToString());
            w.WriteEndArray();
            w.WriteStartArray("recent_errors");
            foreach (var entry in logs.Reverse())
            {
                w.WriteStartObject();
                w.WriteString("time", entry.Time.ToString("O"));
                w.WriteString("level", entry.Level.ToString().ToLowerInvariant());
                w.WriteString("message", entry.Message);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    /// <summary>The component's part of the effective config, secrets redacted as print-config redacts them.</summary>
    private string ConfigYaml(ComponentKind kind, ComponentId id)
    {
        if (_status.Config.Effective is not { } root) return "# built in code: no YAML to show\n";
        var section = kind switch
        {
            ComponentKind.Receiver => "receivers",
            ComponentKind.Processor => "processors",
            ComponentKind.Exporter => "exporters",
            ComponentKind.Connector => "connectors",
            _ => "extensions",
        };
        if ((root.Find(section)?.Value as MappingNode)?.Find(id.ToString()) is not { } entry) return $"{id}: {{}}\n";
        return EffectiveConfig.ToYaml(new MappingNode([entry], root.Location), redact: true);
    }

    private static void StartEventStream(HttpContext context)
    {
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers["X-Accel-Buffering"] = "no";
    }

    private static async Task WriteEventAsync(HttpContext context, string name, string json, CancellationToken cancellationToken)
    {
        await context.Response.WriteAsync($"event: {name}\ndata: {json}\n\n", cancellationToken);
        await context.Response.Body.FlushAsync(cancellationToken);
    }

    private static Task WriteJsonAsync(HttpContext context, Action<Utf8JsonWriter> write) =>
        WriteTextAsync(context, "application/json", JsonText.Of(write));

    private static Task WriteTextAsync(HttpContext context, string contentType, string text)
    {
        context.Response.ContentType = contentType;
        context.Response.Headers.CacheControl = "no-store";
        return context.Response.WriteAsync(text);
    }

    private static Task ErrorAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        return WriteJsonAsync(context, w =>
        {
            w.WriteStartObject();
            w.WriteString("error", message);
            w.WriteEndObject();
        });
    }
}
