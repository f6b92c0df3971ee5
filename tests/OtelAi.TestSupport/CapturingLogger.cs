using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace OtelAi.TestSupport;

/// <summary>An ILogger that keeps every formatted line, so tests can check what users are told.</summary>
public sealed class CapturingLogger : ILogger
{
    public ConcurrentQueue<(LogLevel Level, string Message)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Entries.Enqueue((logLevel, formatter(state, exception)));

    public bool Contains(LogLevel level, string text) => Entries.Any(e => e.Level == level && e.Message.Contains(text, StringComparison.Ordinal));

    /// <summary>Warnings and errors, with the exception of each: what a healthy run must not log.</summary>
    public IReadOnlyList<string> Problems => Entries.Where(e => e.Level >= LogLevel.Warning).Select(e => $"{e.Level}: {e.Message}").ToList();

    public IEnumerable<string> Messages(LogLevel level) => Entries.Where(e => e.Level == level).Select(e => e.Message);
}

/// <summary>A logger factory whose loggers all write into one <see cref="CapturingLogger"/>.</summary>
public sealed class CapturingLoggerFactory : ILoggerFactory
{
    public CapturingLogger Logger { get; } = new();

    /// <summary>Every message logged so far.</summary>
    public IReadOnlyList<string> Lines => Logger.Entries.Select(e => e.Message).ToList();

    public ILogger CreateLogger(string categoryName) => Logger;

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }
}
