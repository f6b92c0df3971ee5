using Microsoft.Extensions.Logging;
using OtelAi.Engine.SelfTelemetry;

namespace OtelAi.Engine.Components;

/// <summary>
/// Lifecycle every component shares. Start is called in dependency order (extensions, exporters, processors,
/// receivers), shutdown in reverse; shutdown must drain in-flight data until <paramref name="cancellationToken"/> fires.
/// </summary>
public interface IComponent
{
    Task StartAsync(IComponentHost host, CancellationToken cancellationToken);

    Task ShutdownAsync(CancellationToken cancellationToken);
}

/// <summary>What the running service offers components at start.</summary>
public interface IComponentHost
{
    /// <summary>A started extension by id, or null.</summary>
    IComponent? GetExtension(ComponentId id);

    /// <summary>Reports an error after start that the component cannot recover from; the service shuts down.</summary>
    void ReportFatalError(ComponentId source, Exception error);

    /// <summary>Reports a status change or an error the component recovers from (health_check reads them).</summary>
    void ReportStatus(ComponentStatusEvent status)
    {
    }
}

/// <summary>Everything a factory hands to a new component besides its config.</summary>
public sealed record ComponentCreateSettings(
    ComponentId Id,
    ComponentKind Kind,
    ILogger Logger,
    MetricRegistry Metrics,
    BuildInfo BuildInfo)
{
    private SharedComponents? _shared;
    private FeatureGates? _featureGates;

    /// <summary>The collector's feature gates (every gate at its default when built alone).</summary>
    public FeatureGates FeatureGates
    {
        get => _featureGates ??= new FeatureGates([]);
        init => _featureGates = value;
    }

    /// <summary>State shared with the other components of the same collector (a private store when built alone).</summary>
    public SharedComponents Shared
    {
        get => _shared ??= new SharedComponents();
        init => _shared = value;
    }
}

public sealed record BuildInfo(string Command, string Description, string Version)
{
    public static BuildInfo Current { get; } = new(
        "otelai",
        "otelai: OpenTelemetry-Collector-compatible telemetry pipeline for AI inference services",
        typeof(BuildInfo).Assembly.GetName().Version?.ToString(3) ?? "0.0.0")
    {
        Commit = CommitOf(typeof(BuildInfo).Assembly),
    };

    /// <summary>The source commit the build came from ("" when the build did not record one).</summary>
    public string Commit { get; init; } = "";

    /// <summary>The SDK records the commit in the informational version as "1.0.0+&lt;sha&gt;".</summary>
    private static string CommitOf(System.Reflection.Assembly assembly)
    {
        var informational = System.Reflection.CustomAttributeExtensions.GetCustomAttribute<System.Reflection.AssemblyInformationalVersionAttribute>(assembly)?.InformationalVersion ?? "";
        var plus = informational.IndexOf('+');
        return plus < 0 ? "" : informational[(plus + 1)..];
    }
}
