namespace OtelAi.Engine.Components;

/// <summary>otelcol's component status, as far as a running component reports it.</summary>
public enum ComponentStatus
{
    /// <summary>Working: data flows.</summary>
    Ok,

    /// <summary>Failing for now (a refused or failed send, memory above the limit); it may recover by itself.</summary>
    RecoverableError,
}

/// <summary>One status report: which component, what status, and why.</summary>
public sealed record ComponentStatusEvent(ComponentKind Kind, ComponentId Id, ComponentStatus Status, string? Message);

/// <summary>
/// Reports one component's status to the host it was started with. Errors are reported every time (health checks
/// count them); a return to <see cref="ComponentStatus.Ok"/> only once, so the per-request path may call it freely.
/// </summary>
public sealed class ComponentStatusReporter(ComponentKind kind, ComponentId id)
{
    private IComponentHost? _host;
    private int _last = -1;

    public void Attach(IComponentHost host) => _host = host;

    public void Report(ComponentStatus status, string? message = null)
    {
        if (Interlocked.Exchange(ref _last, (int)status) == (int)status && status == ComponentStatus.Ok) return;
        _host?.ReportStatus(new ComponentStatusEvent(kind, id, status, message));
    }
}

/// <summary>A component's last reported status, since when it holds, and when its recent errors were reported.</summary>
public sealed record ComponentHealth(ComponentKind Kind, ComponentId Id, ComponentStatus Status, string? Message, DateTimeOffset Since,
    IReadOnlyList<DateTimeOffset> RecentErrors);
