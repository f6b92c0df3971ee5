using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Service;
using OtelAi.Otlp;
using OtelAi.Otlp.Hosting;

namespace OtelAi.Engine.Extensions.ZPages;

/// <summary>Config of otelcol's <c>zpages</c> extension.</summary>
public sealed record ZPagesConfig : ComponentConfig, IListenEndpoints
{
    public IEnumerable<(string KeyPath, string Endpoint)> ListenEndpoints() => [("endpoint", Endpoint)];

    [ConfigDescription("host:port the pages are served on.")]
    public string Endpoint { get; init; } = "localhost:55679";

    [ConfigDescription("Serve over TLS (the shared server TLS settings, reload_interval included).")]
    public Settings.TlsServerSettings? Tls { get; init; }

    [ConfigDescription("otelcol's expvar page: accepted; otelai has no Go expvars, /debug/expvarz answers 404.")]
    public ExpvarConfig Expvar { get; init; } = new();

    public override IEnumerable<ConfigError> Validate()
    {
        if (!ServerHost.TryParseEndpoint(Endpoint, out _, out _, out var error)) yield return new ConfigError("endpoint", error!);
    }
}

public sealed record ExpvarConfig
{
    public bool Enabled { get; init; }
}

public sealed class ZPagesExtensionFactory : ExtensionFactory<ZPagesConfig>
{
    public override string Type => "zpages";

    protected override IComponent Create(ComponentCreateSettings settings, ZPagesConfig config) =>
        new ZPagesExtension(settings, config);
}

/// <summary>
/// otelcol's zpages at their paths: <c>/debug/servicez</c> (build, state, uptime), <c>/debug/pipelinez</c> (each
/// pipeline's components), <c>/debug/extensionz</c>, <c>/debug/featurez</c> (feature gates) and <c>/debug/tracez</c>
/// (the engine records no spans of its own: the page says so). Each page is HTML, or JSON with <c>?format=json</c>
/// for scripts.
/// </summary>
internal sealed class ZPagesExtension(ComponentCreateSettings settings, ZPagesConfig config)
    : CollectorPageServer(settings, config.Endpoint, config.Tls)
{
    protected override string Serves => "/debug/servicez, /debug/pipelinez, /debug/extensionz, /debug/featurez";

    protected override Task HandleAsync(HttpContext context)
    {
        var page = context.Request.Path.Value switch
        {
            "/debug/servicez" or "/" => Servicez(),
            "/debug/pipelinez" => Pipelinez(),
            "/debug/extensionz" => Extensionz(),
            "/debug/featurez" => Featurez(),
            "/debug/tracez" => new Page("Traces", ["Note"], [["otelai records no spans of its own; see the self-metrics and logs."]]),
            _ => null,
        };
        if (page is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
        {
            context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            return Task.CompletedTask;
        }
        if (context.Request.Query["format"] == "json")
        {
            context.Response.ContentType = "application/json";
            return context.Response.WriteAsync(page.ToJson());
        }
        context.Response.ContentType = "text/html; charset=utf-8";
        return context.Response.WriteAsync(page.ToHtml());
    }

    private Page Servicez()
    {
        var status = Status;
        var build = Settings.BuildInfo;
        var since = status.RunningSince;
        return new Page("Service", ["Property", "Value"],
        [
            ["Command", build.Command], ["Version", build.Version], ["Commit", build.Commit ?? ""],
            ["State", status.State.ToString()],
            ["Running since", since?.ToString("O") ?? ""],
            ["Uptime", since is { } start ? Durations.Format(TimeSpan.FromSeconds(Math.Round((DateTimeOffset.UtcNow - start).TotalSeconds))) : ""],
        ]);
    }

    private Page Pipelinez()
    {
        var health = Status.ComponentHealth;
        string StatusOf(ComponentKind kind, ComponentId id) =>
            health.FirstOrDefault(h => h.Kind == kind && h.Id == id) is { Status: ComponentStatus.RecoverableError } failing ? $"failing: {failing.Message}" : "ok";
        var rows = new List<string[]>();
        foreach (var (id, pipeline) in Status.Config.Pipelines.OrderBy(p => p.Key.ToString(), StringComparer.Ordinal))
        {
            foreach (var receiver in pipeline.Receivers) rows.Add([id.ToString(), "receiver", receiver.ToString(), StatusOf(ComponentKind.Receiver, receiver)]);
            foreach (var processor in pipeline.Processors) rows.Add([id.ToString(), "processor", processor.ToString(), StatusOf(ComponentKind.Processor, processor)]);
            foreach (var exporter in pipeline.Exporters) rows.Add([id.ToString(), "exporter", exporter.ToString(), StatusOf(ComponentKind.Exporter, exporter)]);
        }
        return new Page("Pipelines", ["Pipeline", "Kind", "Component", "Status"], rows);
    }

    private Page Extensionz() => new("Extensions", ["Extension"], [.. Status.Config.ServiceExtensions.Select(e => new[] { e.ToString() })]);

    private Page Featurez() => new("Feature gates", ["ID", "Enabled", "Stage", "Description"],
        [.. Settings.FeatureGates.All.Select(g => new[] { g.Gate.Id, g.Enabled ? "true" : "false", g.Gate.Stage.ToString(), g.Gate.Description })]);

    /// <summary>One page: a title and a table.</summary>
    private sealed record Page(string Title, string[] Columns, IReadOnlyList<string[]> Rows)
    {
        public string ToHtml()
        {
            var html = new StringBuilder();
            html.Append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>otelai ").Append(WebUtility.HtmlEncode(Title)).Append("</title></head><body>");
            html.Append("<p><a href=\"/debug/servicez\">servicez</a> · <a href=\"/debug/pipelinez\">pipelinez</a> · <a href=\"/debug/extensionz\">extensionz</a> · <a href=\"/debug/featurez\">featurez</a></p>");
            html.Append("<h1>").Append(WebUtility.HtmlEncode(Title)).Append("</h1><table border=\"1\"><tr>");
            foreach (var column in Columns) html.Append("<th>").Append(WebUtility.HtmlEncode(column)).Append("</th>");
            html.Append("</tr>");
            foreach (var row in Rows)
            {
                html.Append("<tr>");
                foreach (var cell in row) html.Append("<td>").Append(WebUtility.HtmlEncode(cell)).Append("</td>");
                html.Append("</tr>");
            }
            return html.Append("</table></body></html>").ToString();
        }

        /// <summary><c>{"title": ..., "rows": [{column: value, ...}]}</c>, written without reflection (the executable may be Native AOT).</summary>
        public string ToJson()
        {
            using var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartObject();
                writer.WriteString("title", Title);
                writer.WriteStartArray("rows");
                foreach (var row in Rows)
                {
                    writer.WriteStartObject();
                    for (var i = 0; i < Columns.Length; i++) writer.WriteString(Columns[i].ToLowerInvariant().Replace(' ', '_'), row[i]);
                    writer.WriteEndObject();
                }
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            return Encoding.UTF8.GetString(buffer.ToArray());
        }
    }
}
