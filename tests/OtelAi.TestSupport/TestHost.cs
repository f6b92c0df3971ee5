using System.Collections.Concurrent;
using OtelAi.Engine.Components;

namespace OtelAi.TestSupport;

/// <summary>A host that serves the extensions a test started and records fatal errors.</summary>
public sealed class TestHost(params (ComponentId Id, IComponent Extension)[] extensions) : IComponentHost
{
    public ConcurrentQueue<Exception> FatalErrors { get; } = new();

    public IComponent? GetExtension(ComponentId id) => extensions.FirstOrDefault(e => e.Id == id).Extension;

    public void ReportFatalError(ComponentId source, Exception error) => FatalErrors.Enqueue(error);
}
