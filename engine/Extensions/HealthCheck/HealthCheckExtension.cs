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

    [ConfigDescription("Also answer 500 when the pipelines do not move data: more than exporter_failure_threshold failed exporter sends within interval, or a component (exporter, memory_limiter) failing without a break for interval.")]
    public CheckCollectorPipelineConfig CheckCollectorPipeline { get; init; } = new();

    public override IEnumerable<ConfigError> Validate()
    {
        if (string.IsNullOrEmpty(Endpoint)) yield return new ConfigError("endpoint", "must be specified");
        if (!Path.StartsWith('/')) yield return new ConfigError("path", "must start with /");
        if (CheckCollectorPipeline.ExporterFailureThreshold <= 0)
            yield return new ConfigError("check_collector_pipeline.exporter_failure_threshold", "must be larger than 0");
        if (CheckCollectorPipeline.Interval <= TimeSpan.Zero)
            yield return new ConfigError("check_collector_pipeline.interval", "must be larger than 0");
    }
}

/// <summary>otelcol-contrib's <c>check_collector_pipeline</c> block of health_check.</summary>
public sealed record CheckCollectorPipelineConfig
{
    [ConfigDescription("Check the pipelines besides the collector's state.")]
    public bool Enabled { get; init; }

    [ConfigDescription("The window failures are counted in, and how long a component may fail without a break.")]
    public TimeSpan Interval { get; init; } = TimeSpan.FromMinutes(5);

    [ConfigDescription("Failed exporter sends (after retries) allowed within interval.")]
    public int ExporterFailureThreshold { get; init; } = 5;
}

public sealed record HealthCheckResponseBody
{
    [ConfigDescription("Body returned with 200 while every pipeline runs.")]
    public string Healthy { get; init; } = "";

    [ConfigDescription("Body returned with 503 while starting or stopping.")]
    public string Unhealthy { get; init; } = "";
}

public sealed class HealthCheckExtensionFactory : ExtensionFactory<HealthCheckConfig>
{
    public override string Type => "health_check";

    protected override IComponent Create(ComponentCreateSettings settings, HealthCheckConfig config) =>
        new HealthCheckExtension(settings, config);
}

/// <summary>
/// Answers GET on <see cref="HealthCheckConfig.Path"/> with 200 while the collector is Running and 503 otherwise,
/// with otelcol's JSON body (<c>status</c>, <c>upSince</c>, <c>uptime</c>). It starts before any pipeline and stops
/// after all of them, so it reports 503 throughout start-up and shutdown. With <c>check_collector_pipeline</c>, a
/// running collector whose pipelines do not move data answers 500, as otelcol-contrib's, with the reason in the body.
/// </summary>
internal sealed class HealthCheckExtension(ComponentCreateSettings settings, HealthCheckConfig config)
    : CollectorPageServer(settings, config.Endpoint, config.Tls)
{
    protected override string Serves => $"path {config.Path}";

    protected override Task HandleAsync(HttpContext context)
    {
        if (context.Request.Path != config.Path)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }
        var status = Status;
        var since = status.RunningSince;
        var healthy = status.State == CollectorState.Running && since is not null;
        var pipelineProblem = healthy && config.CheckCollectorPipeline.Enabled
            ? PipelineProblem(status.ComponentHealth, config.CheckCollectorPipeline, DateTimeOffset.UtcNow)
            : null;
        context.Response.StatusCode = pipelineProblem is not null ? StatusCodes.Status500InternalServerError
            : healthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        healthy &= pipelineProblem is null;
        if (config.ResponseBody is { } custom)
        {
            context.Response.ContentType = "text/plain; charset=utf-8";
            return context.Response.WriteAsync(healthy ? custom.Healthy : custom.Unhealthy);
        }
        context.Response.ContentType = "application/json";
        var body = healthy
            ? new HealthBody("Server available", since!.Value.UtcDateTime, FormatUptime(DateTimeOffset.UtcNow - since.Value))
            : new HealthBody("Server not available", DateTime.SpecifyKind(DateTime.MinValue, DateTimeKind.Utc), "") { Reason = pipelineProblem };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body, HealthBodyJson.Default.HealthBody));
    }

    /// <summary>Why the pipelines are not moving data, or null: too many failed sends, or a component failing throughout the interval.</summary>
    internal static string? PipelineProblem(IEnumerable<ComponentHealth> components, CheckCollectorPipelineConfig check, DateTimeOffset now)
    {
        var problems = new List<string>();
        foreach (var component in components.OrderBy(c => c.Kind).ThenBy(c => c.Id.ToString(), StringComparer.Ordinal))
        {
            var what = $"{component.Kind.ToString().ToLowerInvariant()} {component.Id}";
            var failures = component.RecentErrors.Count(at => now - at <= check.Interval);
            if (component.Kind == ComponentKind.Exporter && failures > check.ExporterFailureThreshold)
                problems.Add($"{what}: {failures} failed sends within {Durations.Format(check.Interval)} (last: {component.Message})");
            else if (component.Status == ComponentStatus.RecoverableError && now - component.Since >= check.Interval)
                problems.Add($"{what}: failing for {Durations.Format(TimeSpan.FromSeconds(Math.Round((now - component.Since).TotalSeconds)))} ({component.Message})");
        }
        return problems.Count == 0 ? null : string.Join("; ", problems);
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

}

internal sealed record HealthBody(string Status, DateTime UpSince, string Uptime)
{
    /// <summary>otelai: why check_collector_pipeline finds the pipelines unhealthy.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Reason { get; init; }
}

/// <summary>The body's JSON, generated at build time (no reflection: the executable may be Native AOT).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(HealthBody))]
internal sealed partial class HealthBodyJson : JsonSerializerContext;
