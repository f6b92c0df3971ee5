using OtelAi.Otlp.Hosting;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Service;
using OtelAi.Otlp;

namespace OtelAi.Engine.Extensions.HealthCheck;

/// <summary>Config of otelcol-contrib's <c>health_check</c> extension (the keys it shares with otelcol).</summary>
public sealed record HealthCheckConfig : ComponentConfig, IListenEndpoints
{
    public IEnumerable<(string KeyPath, string Endpoint)> ListenEndpoints() => [("endpoint", Endpoint)];

    [ConfigDescription("host:port the health endpoint listens on.")]
    public string Endpoint { get; init; } = "localhost:13133";

    [ConfigDescription("URL path that answers the health check; must start with /.")]
    public string Path { get; init; } = "/";

    [ConfigDescription("Replaces the default JSON bodies.")]
    public HealthCheckResponseBody? ResponseBody { get; init; }

    [ConfigDescription("Serve over TLS (probes then use HTTPS), with reload_interval for rotated certificates.")]
    public OtelAi.Engine.Settings.TlsServerSettings? Tls { get; init; }

    public override IEnumerable<ConfigError> Validate()
    {
        if (string.IsNullOrEmpty(Endpoint)) yield return new ConfigError("endpoint", "must be specified");
        if (!Path.StartsWith('/')) yield return new ConfigError("path", "must start with /");
    }
}

public sealed record HealthCheckResponseBody
{
    [ConfigDescription("Body returned with 200 while every pipeline runs.")]
    public string Healthy { get; init; } = "";

    [ConfigDescription("Body returned with 503 while starting or stopping.")]
    public string Unhealthy { get; init; } = "";
}

public sealed class HealthCheckExtensionFactory : IExtensionFactory
{
    public string Type => "health_check";

    public ComponentKind Kind => ComponentKind.Extension;

    public Type ConfigType => typeof(HealthCheckConfig);

    public ComponentConfig CreateDefaultConfig() => new HealthCheckConfig();

    public IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; } = new Dictionary<Signal, StabilityLevel>();

    public StabilityLevel ExtensionStability => StabilityLevel.Beta;

    public IComponent CreateExtension(ComponentCreateSettings settings, ComponentConfig config) =>
        new HealthCheckExtension(settings, (HealthCheckConfig)config);
}

/// <summary>
/// Answers GET on <see cref="HealthCheckConfig.Path"/> with 200 while the collector is Running and 503 otherwise,
/// with otelcol's JSON body (<c>status</c>, <c>upSince</c>, <c>uptime</c>). It starts before any pipeline and stops
/// after all of them, so it reports 503 throughout start-up and shutdown.
/// </summary>
internal sealed class HealthCheckExtension(ComponentCreateSettings settings, HealthCheckConfig config) : IComponent
{
    private ICollectorStatus? _status;
    private ServerHost? _server;

    /// <summary>The bound port (useful when the endpoint asked for port 0).</summary>
    public int Port => _server?.Port ?? throw new InvalidOperationException("health_check is not started");

    public async Task StartAsync(IComponentHost host, CancellationToken cancellationToken)
    {
        _status = host as ICollectorStatus
            ?? throw new InvalidOperationException("health_check needs a host that reports the collector state (ICollectorStatus)");
        _server = await ServerHost.StartAsync(config.Endpoint, HandleAsync,
            config.Tls is { } tls ? new ServerHostSetup { Tls = tls.Load(), Logger = settings.Logger } : ServerHostSetup.Http1, cancellationToken);
        settings.Logger.LogInformation("health check serving on {Endpoint} (port {Port}), path {Path}", config.Endpoint, _server.Port, config.Path);
    }

    private Task HandleAsync(HttpContext context)
    {
        if (context.Request.Path != config.Path)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }
        var status = _status!;
        var since = status.RunningSince;
        var healthy = status.State == CollectorState.Running && since is not null;
        context.Response.StatusCode = healthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        if (config.ResponseBody is { } custom)
        {
            context.Response.ContentType = "text/plain; charset=utf-8";
            return context.Response.WriteAsync(healthy ? custom.Healthy : custom.Unhealthy);
        }
        context.Response.ContentType = "application/json";
        var body = healthy
            ? new HealthBody("Server available", since!.Value.UtcDateTime, FormatUptime(DateTimeOffset.UtcNow - since.Value))
            : new HealthBody("Server not available", DateTime.SpecifyKind(DateTime.MinValue, DateTimeKind.Utc), "");
        return context.Response.WriteAsync(JsonSerializer.Serialize(body, HealthBodyJson.Default.HealthBody));
    }

    // Go's time.Duration text (e.g. "1m30.25s", "807.5ms"), which otelcol puts in "uptime".
    internal static string FormatUptime(TimeSpan uptime)
    {
        if (uptime < TimeSpan.FromSeconds(1))
            return uptime.TotalMilliseconds.ToString("0.######", System.Globalization.CultureInfo.InvariantCulture) + "ms";
        var hours = (int)uptime.TotalHours;
        var seconds = uptime.TotalSeconds - hours * 3600 - uptime.Minutes * 60;
        var secondsText = seconds.ToString("0.#########", System.Globalization.CultureInfo.InvariantCulture) + "s";
        if (hours > 0) return $"{hours}h{uptime.Minutes}m{secondsText}";
        return uptime.Minutes > 0 ? $"{uptime.Minutes}m{secondsText}" : secondsText;
    }

    public async Task ShutdownAsync(CancellationToken cancellationToken)
    {
        if (_server is not null) await _server.DisposeAsync();
        _server = null;
    }

}

internal sealed record HealthBody(string Status, DateTime UpSince, string Uptime);

/// <summary>The body's JSON, generated at build time (no reflection: the executable may be Native AOT).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(HealthBody))]
internal sealed partial class HealthBodyJson : JsonSerializerContext;
