using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using OtelAi.Engine.Config;

namespace OtelAi.Engine.Logging;

public enum LogEncoding
{
    /// <summary>Tab-separated: timestamp, level, component, message, exception.</summary>
    Console,

    /// <summary>One JSON object per line: ts, level, kind, name, msg, error.</summary>
    Json,
}

/// <summary>
/// Writes one line per log event (default: to stderr), like otelcol's own logger: UTC ISO-8601 timestamp, level,
/// the component (logger category <c>kind/id</c>, e.g. <c>exporter/otlp/backup</c>), message and exception.
/// Events below <see cref="MinimumLevel"/> are discarded before formatting.
/// </summary>
public sealed class LineLoggerProvider(TextWriter output, LogLevel minimumLevel, LogEncoding encoding, LogSamplingConfig? sampling = null, TimeProvider? time = null) : ILoggerProvider
{
    /// <summary>stderr (already synchronised by the runtime), at the level, encoding and sampling of <c>service.telemetry.logs</c>.</summary>
    public static LineLoggerProvider FromConfig(TelemetryLogsConfig config) =>
        new(Console.Error, ParseLevel(config.Level), ParseEncoding(config.Encoding), config.Sampling);

    private readonly MessageSampler? _sampler = sampling is { Enabled: true } ? new MessageSampler(sampling, time ?? TimeProvider.System) : null;

    public LogLevel MinimumLevel => minimumLevel;

    public static LogLevel ParseLevel(string level) => level.ToLowerInvariant() switch
    {
        "debug" => LogLevel.Debug,
        "info" => LogLevel.Information,
        "warn" or "warning" => LogLevel.Warning,
        "error" or "dpanic" or "panic" or "fatal" => LogLevel.Error,
        _ => throw new ArgumentException($"unknown log level \"{level}\"; expected debug, info, warn or error"),
    };

    public static LogEncoding ParseEncoding(string encoding) => encoding.ToLowerInvariant() switch
    {
        "console" => LogEncoding.Console,
        "json" => LogEncoding.Json,
        _ => throw new ArgumentException($"unknown log encoding \"{encoding}\"; expected console or json"),
    };

    public ILogger CreateLogger(string categoryName) => new LineLogger(this, categoryName);

    public void Dispose() => output.Flush();

    private void Write(string category, LogLevel level, string template, string message, Exception? exception)
    {
        if (_sampler is not null && !_sampler.Admit(category, level, template)) return;
        // Stack traces are for debugging: at other levels an exception is its type and message (and its causes').
        if (exception is not null && minimumLevel > LogLevel.Debug) exception = new SummarizedException(exception);
        var line = encoding == LogEncoding.Json
            ? FormatJson(DateTime.UtcNow, category, level, message, exception)
            : FormatConsole(DateTime.UtcNow, category, level, message, exception);
        // One Write call per event keeps concurrent lines whole on a synchronised writer.
        lock (output) output.Write(line);
    }

    internal static string FormatConsole(DateTime utc, string category, LogLevel level, string message, Exception? exception)
    {
        var sb = new StringBuilder(128);
        sb.Append(utc.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture)).Append('\t')
            .Append(LevelName(level)).Append('\t')
            .Append(category).Append('\t')
            .Append(Indented(message));
        if (exception is not null) sb.Append('\t').Append(OneLine(exception.ToString()));
        return sb.Append('\n').ToString();
    }

    internal static string FormatJson(DateTime utc, string category, LogLevel level, string message, Exception? exception)
    {
        return JsonText.Of(json =>
        {
            json.WriteStartObject();
            json.WriteString("ts", utc.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture));
            json.WriteString("level", LevelName(level));
            var slash = category.IndexOf('/');
            if (slash > 0)
            {
                json.WriteString("kind", category[..slash]);
                json.WriteString("name", category[(slash + 1)..]);
            }
            else
            {
                json.WriteString("logger", category);
            }
            json.WriteString("msg", message);
            if (exception is not null) json.WriteString("error", exception.ToString());
            json.WriteEndObject();
        }) + "\n";
    }

    private static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace or LogLevel.Debug => "debug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        _ => "error",
    };

    // A multi-line message (the debug exporter's dump) keeps its lines, each continuation indented by a tab, so an
    // event still starts at the left margin with its timestamp and nothing in it can look like another event.
    private static string Indented(string text) => text.Contains('\n') ? text.Replace("\r", "").Replace("\n", "\n\t") : text;

    // Stack traces stay on one line.
    private static string OneLine(string text) => text.Contains('\n') ? text.Replace("\r", "").Replace("\n", "\\n") : text;

    private sealed class LineLogger(LineLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= provider.MinimumLevel;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            var message = formatter(state, exception);
            // Sampling keys on the message template ("attempt {N} failed"), not on the values that differ per event.
            var template = state is IReadOnlyList<KeyValuePair<string, object?>> values && values.Count > 0 && values[^1].Key == "{OriginalFormat}"
                ? values[^1].Value as string ?? message
                : message;
            provider.Write(category, logLevel, template, message, exception);
        }
    }
}

/// <summary>otelcol's (zap's) sampler: per (category, level, template) and tick, the first N events, then every Mth.</summary>
internal sealed class MessageSampler(LogSamplingConfig config, TimeProvider time)
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string, LogLevel, string), Window> _windows = new();

    private sealed class Window
    {
        public long Start;
        public long Count;
    }

    public bool Admit(string category, LogLevel level, string template)
    {
        var now = time.GetTimestamp();
        var tick = (long)(config.Tick.TotalSeconds * time.TimestampFrequency);
        // Untemplated messages each make a key: past a bound the windows start over rather than grow.
        if (_windows.Count > 10_000) _windows.Clear();
        var window = _windows.GetOrAdd((category, level, template), _ => new Window { Start = now });
        long n;
        lock (window)
        {
            if (now - window.Start >= tick)
            {
                window.Start = now;
                window.Count = 0;
            }
            n = ++window.Count;
        }
        return n <= config.Initial || config.Thereafter > 0 && (n - config.Initial) % config.Thereafter == 0;
    }
}

/// <summary>An exception shown without its stack trace: "Type: message" for it and each inner exception.</summary>
internal sealed class SummarizedException(Exception original) : Exception(original.Message)
{
    public override string ToString()
    {
        var parts = new List<string>();
        for (var e = original; e is not null; e = e.InnerException) parts.Add($"{e.GetType().FullName}: {e.Message}");
        return string.Join(" ---> ", parts);
    }
}
