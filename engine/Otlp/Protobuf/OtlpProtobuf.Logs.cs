using OtelAi.Otlp.Proto.Logs.V1;

namespace OtelAi.Otlp.Protobuf;

// opentelemetry/proto/logs/v1/logs.proto.
internal static unsafe partial class OtlpProtobuf
{
    private static int MeasureResourceLogs(ResourceLogs message, SizeCache cache) =>
        MeasureGroup(message.Resource, &MeasureResource, message.ScopeLogs, &MeasureScopeLogs, message.SchemaUrl, cache);

    private static void WriteResourceLogs(ref ProtoWriter writer, ResourceLogs message) =>
        WriteGroup(ref writer, message.Resource, &WriteResource, message.ScopeLogs, &WriteScopeLogs, message.SchemaUrl);

    private static int MeasureScopeLogs(ScopeLogs message, SizeCache cache) =>
        MeasureGroup(message.Scope, &MeasureScope, message.LogRecords, &MeasureLogRecord, message.SchemaUrl, cache);

    private static void WriteScopeLogs(ref ProtoWriter writer, ScopeLogs message) =>
        WriteGroup(ref writer, message.Scope, &WriteScope, message.LogRecords, &WriteLogRecord, message.SchemaUrl);

    private static int MeasureLogRecord(LogRecord message, SizeCache cache)
    {
        var slot = cache.Reserve();
        var size = 0;
        size += Fixed64Size(message.TimeUnixNano);
        size += EnumSize((int)message.SeverityNumber);
        size += StringSize(message.SeverityText, cache);
        if (message.Body is { } body) size += 1 + Delimited(MeasureAnyValue(body, cache));
        size += MeasureRepeated(message.Attributes, cache, &MeasureKeyValue);
        size += UInt32Size(message.DroppedAttributesCount);
        size += Fixed32Size(message.Flags);
        size += BytesSize(message.TraceId);
        size += BytesSize(message.SpanId);
        size += Fixed64Size(message.ObservedTimeUnixNano);
        size += StringSize(message.EventName, cache);
        return cache.Set(slot, size);
    }

    private static void WriteLogRecord(ref ProtoWriter writer, LogRecord message)
    {
        writer.Length();
        writer.Fixed64Field(0x09, message.TimeUnixNano);
        writer.EnumField(0x10, (int)message.SeverityNumber);
        writer.StringField(0x1A, message.SeverityText);
        if (message.Body is { } body)
        {
            writer.Tag(0x2A);
            WriteAnyValue(ref writer, body);
        }
        WriteRepeated(ref writer, 0x32, message.Attributes, &WriteKeyValue);
        writer.UInt32Field(0x38, message.DroppedAttributesCount);
        writer.Fixed32Field(0x45, message.Flags);
        writer.BytesField(0x4A, message.TraceId);
        writer.BytesField(0x52, message.SpanId);
        writer.Fixed64Field(0x59, message.ObservedTimeUnixNano);
        writer.StringField(0x62, message.EventName);
    }
}
