namespace OtelAi.Engine;

/// <summary>Lifecycle of a <see cref="Collector"/>: Created → Starting → Running → Stopping → Stopped.</summary>
public enum CollectorState
{
    Created,
    Starting,
    Running,
    Stopping,
    Stopped,
}

/// <summary>
/// The running collector's state, for extensions that report it (health_check). The <see cref="Components.IComponentHost"/>
/// handed to components at start implements this interface.
/// </summary>
public interface ICollectorStatus
{
    CollectorState State { get; }

    /// <summary>When every pipeline was last started; null unless <see cref="State"/> is Running.</summary>
    DateTimeOffset? RunningSince { get; }

    /// <summary>The last status each component reported (components that reported nothing are not listed).</summary>
    IReadOnlyCollection<Components.ComponentHealth> ComponentHealth => [];

    /// <summary>The running config (pipelines, extensions), for pages that describe the service.</summary>
    Config.ServiceConfig Config => new();
}
