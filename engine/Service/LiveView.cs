using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using OtelAi.Engine.Components;
using OtelAi.Engine.SelfTelemetry;

namespace OtelAi.Engine.Service;

/// <summary>
/// What the zpages live page reads besides the self-metrics: items in and out of every component (counted on the
/// graph's edges), the tap points, and each component's recent warnings and errors. A collector builds it only when
/// a zpages extension is configured, so without one the data path carries none of it.
/// </summary>
internal sealed class LiveView(MetricRegistry edgeMetrics)
{
    /// <summary>Where the graph's edges are counted: the service's metrics under telemetry.newPipelineTelemetry, else a registry of the page's own.</summary>
    public MetricRegistry EdgeMetrics { get; } = edgeMetrics;

    public TapHub Taps { get; } = new();

    public RecentLogs Logs { get; } = new();

    /// <summary>How the page names a component: <c>kind/id</c>, e.g. <c>processor/batch</c>.</summary>
    public static string NodeName(ComponentKind kind, ComponentId id) => $"{kind.ToString().ToLowerInvariant()}/{id}";
}

/// <summary>A warning or error a component logged.</summary>
internal sealed record RecentLogEntry(DateTimeOffset Time, LogLevel Level, string Message);

/// <summary>The last warnings and errors of each logger category (components log under <c>kind/id</c>).</summary>
internal sealed class RecentLogs
{
    private const int KeptPerCategory = 20;
    private readonly ConcurrentDictionary<string, ConcurrentQueue<RecentLogEntry>> _entries = new(StringComparer.Ordinal);

    public IReadOnlyList<RecentLogEntry> Of(string category) =>
        _entries.TryGetValue(category, out var queue) ? [.. queue] : [];

    private void Add(string category, RecentLogEntry entry)
    {
        var queue = _entries.GetOrAdd(category, _ => new ConcurrentQueue<RecentLogEntry>());
        queue.Enqueue(entry);
        while (queue.Count > KeptPerCategory) queue.TryDequeue(out _);
    }

    /// <summary>A logger factory that logs through <paramref name="inner"/> and keeps warnings and errors here too.</summary>
    public ILoggerFactory Wrap(ILoggerFactory inner) => new KeepingLoggerFactory(inner, this);

    private sealed class KeepingLoggerFactory(ILoggerFactory inner, RecentLogs logs) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) => new KeepingLogger(inner.CreateLogger(categoryName), logs, categoryName);

        public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

        // The inner factory belongs to the collector, which disposes it.
        public void Dispose()
        {
        }
    }

    private sealed class KeepingLogger(ILogger inner, RecentLogs logs, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning || inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= LogLevel.Warning && logLevel != LogLevel.None)
            {
                var message = formatter(state, exception);
                logs.Add(category, new RecentLogEntry(DateTimeOffset.UtcNow, logLevel, exception is null ? message : $"{message}: {exception.Message}"));
            }
            if (inner.IsEnabled(logLevel)) inner.Log(logLevel, eventId, state, exception, formatter);
        }
    }
}

/// <summary>What the live page reads from the host besides <see cref="ICollectorStatus"/>.</summary>
internal interface ILiveCollector
{
    /// <summary>Null when the collector was built without a live page.</summary>
    LiveView? Live { get; }

    MetricRegistry Metrics { get; }

    ComponentRegistry Registry { get; }

    /// <summary>Every built component instance (a processor once per pipeline, an exporter once per signal).</summary>
    IReadOnlyList<BuiltComponent> Components { get; }
}
