using System.Collections.Concurrent;
using OtelAi.Engine.Components;
using OtelAi.Engine;

namespace OtelAi.TestSupport;

/// <summary>A host that serves the extensions a test started, records fatal errors and reports a running collector.</summary>
public sealed class TestHost(params (ComponentId Id, IComponent Extension)[] extensions) : IComponentHost, ICollectorStatus
{
    public CollectorState State { get; set; } = CollectorState.Running;

    public DateTimeOffset? RunningSince { get; set; } = DateTimeOffset.UtcNow;

    public ConcurrentQueue<Exception> FatalErrors { get; } = new();

    public IComponent? GetExtension(ComponentId id) => extensions.FirstOrDefault(e => e.Id == id).Extension;

    public void ReportFatalError(ComponentId source, Exception error) => FatalErrors.Enqueue(error);
}
