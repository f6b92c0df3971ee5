using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using OtelAi.Engine;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Exporters;
using OtelAi.Processors;
using OtelAi.Receivers;

namespace OtelAi.Hosting;

/// <summary>
/// An embedded collector in an app built on Microsoft.Extensions.Hosting: one <see cref="Collector"/> singleton from a
/// YAML file or a configuration section, logging through the app's <see cref="ILoggerFactory"/>, started with the
/// host, and stopped after the SDK's providers are flushed into it. It opens no self-metrics port unless its config
/// names one. Its components: every built-in type, the <c>inprocess</c> receiver, and whatever
/// <c>configureComponents</c> adds.
/// </summary>
public static partial class OtelAiServiceCollectionExtensions
{
    public static IServiceCollection AddOtelAiCollector(this IServiceCollection services, string yamlFile, Action<ComponentRegistry>? configureComponents = null) =>
        services.AddOtelAiCollector(provider => Collector.FromFiles([yamlFile], Registry(configureComponents), Options(provider)));

    /// <summary>The collector from a configuration section holding otelcol's keys (receivers, processors, exporters, extensions, service).</summary>
    public static IServiceCollection AddOtelAiCollector(this IServiceCollection services, IConfiguration section, Action<ComponentRegistry>? configureComponents = null) =>
        services.AddOtelAiCollector(provider => Collector.FromYaml(ToYaml(section), Registry(configureComponents), Options(provider)));

    public static IServiceCollection AddOtelAiCollector(this IServiceCollection services, Func<IServiceProvider, Collector> create)
    {
        services.AddSingleton(create);
        services.AddHostedService<CollectorHostedService>();
        // The collector's own log lines go to the app's other providers, never back into the pipelines through the
        // OpenTelemetry SDK (a failing exporter's error would be exported by the exporter that failed, and so on).
        services.Configure<LoggerFilterOptions>(options => options.AddFilter<OpenTelemetryLoggerProvider>(LogCategoryPrefix.TrimEnd('.'), LogLevel.None));
        return services;
    }

    /// <summary>Prefix of the categories the embedded collector logs under (<c>OtelAi.Collector.service</c>, <c>OtelAi.Collector.exporter/otlp</c>).</summary>
    public const string LogCategoryPrefix = "OtelAi.Collector.";

    /// <summary>An ASP.NET Core health check: healthy while every pipeline runs, degraded while a component reports failures, unhealthy otherwise.</summary>
    public static IHealthChecksBuilder AddOtelAiHealthCheck(this IHealthChecksBuilder builder, string name = "otelai", IEnumerable<string>? tags = null) =>
        builder.AddCheck<CollectorHealthCheck>(name, tags: tags);

    private static ComponentRegistry Registry(Action<ComponentRegistry>? configure)
    {
        var registry = new ComponentRegistry().AddEngineComponents().AddReceivers().AddProcessors().AddExporters().Add(new InProcessReceiverFactory());
        configure?.Invoke(registry);
        return registry;
    }

    private static CollectorOptions Options(IServiceProvider provider) => new()
    {
        LoggerFactory = provider.GetService<ILoggerFactory>() is { } loggers ? new PrefixedLoggerFactory(loggers, LogCategoryPrefix) : null,
        ServeDefaultSelfMetricsEndpoint = false,
    };

    /// <summary>A configuration section as YAML: children with keys 0, 1, ... are sequences; values are plain scalars unless they need quotes.</summary>
    internal static string ToYaml(IConfiguration section)
    {
        var yaml = new StringBuilder();
        Write(yaml, section.GetChildren().ToList(), 0);
        return yaml.ToString();
    }

    private static void Write(StringBuilder yaml, IReadOnlyList<IConfigurationSection> children, int indent)
    {
        var isSequence = children.Count > 0 && children.All(c => int.TryParse(c.Key, out _));
        foreach (var child in isSequence ? children.OrderBy(c => int.Parse(c.Key)) : children.AsEnumerable())
        {
            var grandchildren = child.GetChildren().ToList();
            yaml.Append(' ', indent).Append(isSequence ? "- " : Scalar(child.Key) + ":");
            if (grandchildren.Count == 0)
            {
                yaml.Append(isSequence ? "" : " ").Append(child.Value is null ? "" : Scalar(child.Value)).Append('\n');
                continue;
            }
            if (isSequence)
            {
                // A mapping inside a sequence starts on the dash's line: write it on its own lines, indented past the dash.
                yaml.Append("\n");
                Write(yaml, grandchildren, indent + 2);
                continue;
            }
            yaml.Append('\n');
            Write(yaml, grandchildren, indent + 2);
        }
    }

    [GeneratedRegex(@"^[A-Za-z0-9_./${}:@+-][A-Za-z0-9_ ./${}:@+=,()\[\]\x22-]*$")]
    private static partial Regex PlainScalar();

    private static string Scalar(string text) =>
        text.Length > 0 && PlainScalar().IsMatch(text) && !text.Contains(": ", StringComparison.Ordinal) && !text.EndsWith(':') && !text.StartsWith('"')
            ? text
            : System.Text.Json.JsonSerializer.Serialize(text, SerializerContext.Default.String);

    [System.Text.Json.Serialization.JsonSerializable(typeof(string))]
    private sealed partial class SerializerContext : System.Text.Json.Serialization.JsonSerializerContext;
}

/// <summary>Starts the collector with the host; at stop, flushes the SDK's providers into it, then drains and stops it.</summary>
internal sealed class CollectorHostedService(Collector collector, IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => collector.StartAsync(cancellationToken);

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // What the app recorded last is still in the SDK's batch processors: it goes in before the pipelines drain.
        var flushMilliseconds = (int)Math.Min(collector.ShutdownTimeout.TotalMilliseconds, 10_000);
        services.GetService<TracerProvider>()?.ForceFlush(flushMilliseconds);
        services.GetService<MeterProvider>()?.ForceFlush(flushMilliseconds);
        services.GetService<LoggerProvider>()?.ForceFlush(flushMilliseconds);
        await collector.StopAsync(cancellationToken);
    }
}

/// <summary>The collector's state as an ASP.NET Core health check.</summary>
internal sealed class CollectorHealthCheck(Collector collector) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (collector.State != CollectorState.Running)
            return Task.FromResult(new HealthCheckResult(context.Registration.FailureStatus, $"the collector is {collector.State.ToString().ToLowerInvariant()}"));
        var failing = collector.ComponentHealth.Where(h => h.Status != ComponentStatus.Ok).ToList();
        return Task.FromResult(failing.Count == 0
            ? HealthCheckResult.Healthy("every pipeline runs")
            : HealthCheckResult.Degraded(string.Join("; ", failing.Select(h => $"{h.Kind.ToString().ToLowerInvariant()} {h.Id}: {h.Message}"))));
    }
}

/// <summary>The app's logger factory with the collector's categories under one prefix, so the app can filter them as one.</summary>
internal sealed class PrefixedLoggerFactory(ILoggerFactory inner, string prefix) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => inner.CreateLogger(prefix + categoryName);

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    // The app's container owns the inner factory.
    public void Dispose()
    {
    }
}
