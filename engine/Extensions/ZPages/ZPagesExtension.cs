using System.Net;
using System.Text.RegularExpressions;
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

/// <summary>Config of otelcol's <c>zpages</c> extension, with otelai's live page, API and tap.</summary>
public sealed record ZPagesConfig : ComponentConfig, IListenEndpoints
{
    public IEnumerable<(string KeyPath, string Endpoint)> ListenEndpoints() => [("endpoint", Endpoint)];

    [ConfigDescription("host:port the pages are served on.")]
    public string Endpoint { get; init; } = "localhost:55679";

    [ConfigDescription("Serve over TLS (the shared server TLS settings, reload_interval included).")]
    public Settings.TlsServerSettings? Tls { get; init; }

    [ConfigDescription("Require credentials checked by an authenticator extension (e.g. bearertokenauth) on the API and otelcol's pages; the live page's shell is served without, and asks for the token.")]
    public Auth.AuthSettings? Auth { get; init; }

    [ConfigDescription("otelcol's expvar page: accepted; otelai has no Go expvars, /debug/expvarz answers 404.")]
    public ExpvarConfig Expvar { get; init; } = new();

    [ConfigDescription("Limits of the live tap (/api/v1/tap, otelai tap).")]
    public TapConfig Tap { get; init; } = new();

    public override IEnumerable<ConfigError> Validate()
    {
        if (!ServerHost.TryParseEndpoint(Endpoint, out _, out _, out var error)) yield return new ConfigError("endpoint", error!);
    }
}

public sealed record ExpvarConfig
{
    public bool Enabled { get; init; }
}

/// <summary>What a tap may show: it copies only the items it shows, at a bounded rate and size.</summary>
public sealed record TapConfig : IConfigSection
{
    [ConfigDescription("Most items a tap shows per second (1 to 100).")]
    public int MaxItemsPerSecond { get; init; } = 10;

    [ConfigDescription("Largest event in bytes; a bigger item is shown as a one-line summary.")]
    public int MaxItemBytes { get; init; } = 16384;

    [ConfigDescription("Most taps open at once; more get 429.")]
    public int MaxOpen { get; init; } = 4;

    [ConfigDescription("Batches a filtered tap inspects per second at each point, at most (bounds its decoding cost under load).")]
    public int MaxBatchesInspectedPerSecond { get; init; } = 50;

    [ConfigDescription("Regular expressions: the parts of attribute values they match are shown as [REDACTED] (values of credential attributes such as *.authorization always are).")]
    public IReadOnlyList<string> RedactValues { get; init; } = [];

    public IEnumerable<ConfigError> Validate()
    {
        if (MaxItemsPerSecond is < 1 or > 100) yield return new ConfigError("max_items_per_second", "must be between 1 and 100");
        if (MaxItemBytes < 1024) yield return new ConfigError("max_item_bytes", "must be at least 1024");
        if (MaxOpen < 1) yield return new ConfigError("max_open", "must be at least 1");
        if (MaxBatchesInspectedPerSecond < 1) yield return new ConfigError("max_batches_inspected_per_second", "must be at least 1");
        for (var i = 0; i < RedactValues.Count; i++)
        {
            string? problem = null;
            try { _ = new Regex(RedactValues[i]); }
            catch (ArgumentException ex) { problem = ex.Message; }
            if (problem is not null) yield return new ConfigError($"redact_values[{i}]", $"is not a valid regular expression: {problem}");
        }
    }

    internal TapLimits Limits() => new(MaxItemsPerSecond, MaxItemBytes, Buffered: 4 * MaxItemsPerSecond, MaxBatchesInspectedPerSecond,
        [.. RedactValues.Select(r => new Regex(r, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(50)))]);
}

public sealed class ZPagesExtensionFactory : ExtensionFactory<ZPagesConfig>
{
    public override string Type => "zpages";

    protected override IComponent Create(ComponentCreateSettings settings, ZPagesConfig config) =>
        new ZPagesExtension(settings, config);
}

/// <summary>
/// otelcol's zpages at their paths — <c>/debug/servicez</c> (build, state, uptime), <c>/debug/pipelinez</c> (each
/// pipeline's components), <c>/debug/extensionz</c>, <c>/debug/featurez</c> (feature gates), <c>/debug/tracez</c>
/// (the engine records no spans of its own: the page says so), each HTML or JSON with <c>?format=json</c> — and
/// otelai's live page at <c>/</c> over a JSON API under <c>/api/v1/</c> (see <see cref="LiveApi"/>).
/// </summary>
internal sealed class ZPagesExtension(ComponentCreateSettings settings, ZPagesConfig config)
    : CollectorPageServer(settings, config.Endpoint, config.Tls)
{
    private LiveApi? _live;
    private Auth.IServerAuthenticator? _authenticator;

    protected override string Serves => "the live page at /, its API under /api/v1/, and /debug/servicez, /debug/pipelinez, /debug/extensionz, /debug/featurez";

    protected override Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
        {
            context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            return Task.CompletedTask;
        }
        if (LiveAssets.Serve(context, path) is { } asset) return asset;
        if (!Authorized(context)) return Task.CompletedTask;
        if (path.StartsWith("/api/", StringComparison.Ordinal)) return Live.HandleAsync(context, path, Stopping);
        var page = path switch
        {
            "/debug/servicez" => Servicez(),
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
        if (context.Request.Query["format"] == "json")
        {
            context.Response.ContentType = "application/json";
            return context.Response.WriteAsync(page.ToJson());
        }
        context.Response.ContentType = "text/html; charset=utf-8";
        return context.Response.WriteAsync(page.ToHtml());
    }

    private LiveApi Live => _live ??= new LiveApi(Status, (ILiveCollector)Host!, config.Tap, Settings.Logger);

    /// <summary>With <c>auth</c> set, answers 401 (and returns false) unless the authenticator accepts the request.</summary>
    private bool Authorized(HttpContext context)
    {
        if (config.Auth is null) return true;
        // Resolved on first use: the authenticator may be listed after zpages in service.extensions.
        _authenticator ??= config.Auth.ServerAuthenticator(Host!);
        if (_authenticator.Authenticate(context.Request.Headers)) return true;
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers.WWWAuthenticate = "Bearer realm=\"otelai\"";
        return false;
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
        public string ToJson() => JsonText.Of(writer =>
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
            });
    }
}
