using OpenTelemetry;
using OpenTelemetry.Logs;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Logs.V1;
using LogRecord = OpenTelemetry.Logs.LogRecord;

namespace OtelAi.Hosting.Bridge;

/// <summary>
/// SDK log records (from ILogger) as OTLP, as the SDK's OTLP exporter writes them: a scope per category name, observed
/// time = time, the log level's severity number and name, the formatted message as body (else the
/// <c>{OriginalFormat}</c> template, else the bridge API's body), exception.type/message/stacktrace, trace context,
/// and the attributes of enclosing scopes (not their templates or empty keys).
/// </summary>
internal static class SdkLogs
{
    private const string OriginalFormat = "{OriginalFormat}";

    public static ExportLogsServiceRequest Convert(in Batch<LogRecord> batch, OpenTelemetry.Resources.Resource? resource)
    {
        var resourceLogs = new ResourceLogs { Resource = SdkResources.Convert(resource) };
        var scopes = new Dictionary<string, ScopeLogs>(StringComparer.Ordinal);
        foreach (var record in batch)
        {
            var name = record.CategoryName ?? "";
            if (!scopes.TryGetValue(name, out var scope))
            {
                scope = new ScopeLogs { Scope = new InstrumentationScope { Name = name } };
                scopes[name] = scope;
                resourceLogs.ScopeLogs.Add(scope);
            }
            scope.LogRecords.Add(Record(record));
        }
        return new ExportLogsServiceRequest { ResourceLogs = { resourceLogs } };
    }

    /// <summary>The SDK's severity of an ILogger level; its text is the level's name.</summary>
    private static (SeverityNumber, string) Severity(Microsoft.Extensions.Logging.LogLevel level) => level switch
    {
        Microsoft.Extensions.Logging.LogLevel.Trace => (SeverityNumber.Trace, level.ToString()),
        Microsoft.Extensions.Logging.LogLevel.Debug => (SeverityNumber.Debug, level.ToString()),
        Microsoft.Extensions.Logging.LogLevel.Information => (SeverityNumber.Info, level.ToString()),
        Microsoft.Extensions.Logging.LogLevel.Warning => (SeverityNumber.Warn, level.ToString()),
        Microsoft.Extensions.Logging.LogLevel.Error => (SeverityNumber.Error, level.ToString()),
        Microsoft.Extensions.Logging.LogLevel.Critical => (SeverityNumber.Fatal, level.ToString()),
        _ => (SeverityNumber.Unspecified, ""),
    };

    private static Otlp.Proto.Logs.V1.LogRecord Record(LogRecord record)
    {
        var time = SdkTraces.Nanos(record.Timestamp);
        var converted = new Otlp.Proto.Logs.V1.LogRecord
        {
            TimeUnixNano = time,
            ObservedTimeUnixNano = time,
        };
        (converted.SeverityNumber, converted.SeverityText) = Severity(record.LogLevel);
        if (record.Exception is { } exception)
        {
            SdkValues.Add(converted.Attributes, "exception.type", exception.GetType().Name);
            SdkValues.Add(converted.Attributes, "exception.message", exception.Message);
            SdkValues.Add(converted.Attributes, "exception.stacktrace", exception.ToString());
        }
        var bodyFromMessage = false;
        var bodySet = false;
        if (record.FormattedMessage is { } message)
        {
            converted.Body = new AnyValue { StringValue = message };
            bodyFromMessage = bodySet = true;
        }
        if (record.Attributes is { } attributes)
        {
            foreach (var (key, value) in attributes)
            {
                if (key == OriginalFormat && !bodyFromMessage)
                {
                    converted.Body = new AnyValue { StringValue = value as string ?? "" };
                    bodySet = true;
                }
                else
                {
                    SdkValues.Add(converted.Attributes, key, value);
                }
            }
            if (!bodySet && record.Body is { } body) converted.Body = new AnyValue { StringValue = body };
        }
        if (record.TraceId != default && record.SpanId != default)
        {
            converted.TraceId = SdkTraces.TraceId(record.TraceId);
            converted.SpanId = SdkTraces.SpanId(record.SpanId);
            converted.Flags = (uint)record.TraceFlags;
        }
        record.ForEachScope(static (scope, target) =>
        {
            foreach (var (key, value) in scope)
                if (!string.IsNullOrEmpty(key) && key != OriginalFormat) SdkValues.Add(target, key, value);
        }, converted.Attributes);
        return converted;
    }
}
