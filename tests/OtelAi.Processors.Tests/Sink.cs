using OtelAi.Engine.Components;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.Config;

namespace OtelAi.Processors.Tests;

/// <summary>The end of a test pipeline: keeps every payload and the client info it arrived with.</summary>
internal sealed class Sink<T> : ITelemetryConsumer<T> where T : class
{
    private readonly List<(T Data, ClientInfo Client)> _received = [];
    private readonly SemaphoreSlim _arrived = new(0);

    public Func<T, Exception?>? Fail { get; set; }

    public IReadOnlyList<(T Data, ClientInfo Client)> Received
    {
        get { lock (_received) return _received.ToList(); }
    }

    public ValueTask ConsumeAsync(T data, CancellationToken cancellationToken)
    {
        if (Fail?.Invoke(data) is { } error) throw error;
        lock (_received) _received.Add((data, ClientContext.Current));
        _arrived.Release();
        return ValueTask.CompletedTask;
    }

    /// <summary>Forgets what was received (lets a test release the memory it held).</summary>
    public void Clear()
    {
        lock (_received) _received.Clear();
    }

    /// <summary>Waits (up to 30 s) until at least <paramref name="count"/> payloads arrived.</summary>
    public async Task WaitForAsync(int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            lock (_received) if (_received.Count >= count) return;
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) throw new TimeoutException($"expected {count} payloads, got {Received.Count}");
            await _arrived.WaitAsync(left);
        }
    }
}

internal static class TestHost
{
    public static IComponentHost Instance { get; } = new NullHost();

    /// <param name="collector">The shared state of the collector the processor belongs to (its own when null).</param>
    public static ComponentCreateSettings Settings(string id, SharedComponents? collector = null) =>
        ComponentCreateSettings.ForTests(ComponentId.Parse(id), ComponentKind.Processor) with { Shared = collector ?? new SharedComponents() };

    private sealed class NullHost : IComponentHost
    {
        public IComponent? GetExtension(ComponentId id) => null;

        public void ReportFatalError(ComponentId source, Exception error) => throw new InvalidOperationException("fatal error reported", error);
    }
}

internal static class ConfigText
{
    /// <summary>Binds YAML for a config record the way the service does (env expansion, binding, Validate).</summary>
    public static T Bind<T>(string yaml) where T : ComponentConfig => ConfigLoader.Bind<T>(yaml);
}
