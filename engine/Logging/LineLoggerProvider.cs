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
public sealed class LineLoggerProvider(TextWriter output, LogLevel minimumLevel, LogEncoding encoding) : ILoggerProvider
{
    /// <summary>stderr (already synchronised by the runtime), at the level and encoding of <c>service.telemetry.logs</c>.</summary>
    public static LineLoggerProvider FromConfig(TelemetryLogsConfig config) =>
        new(Console.Error, ParseLevel(config.Level), ParseEncoding(config.Encoding));

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

    private void Write(string category, LogLevel level, string message, Exception? exception)
    {
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
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
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
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length) + "\n";
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
            provider.Write(category, logLevel, formatter(state, exception), exception);
        }
    }
}
