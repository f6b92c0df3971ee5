using OtelAi.Proto.Logs.V1;

namespace OtelAi.Engine.Telemetry;

// opentelemetry/proto/logs/v1/logs.proto.
public static unsafe partial class OtlpProtobuf
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
        if (message.TimeUnixNano != 0) size += 9;
        if (message.SeverityNumber != SeverityNumber.Unspecified) size += 1 + ProtoWriter.Int32Size((int)message.SeverityNumber);
        if (message.SeverityText.Length != 0) size += StringField(message.SeverityText, cache);
        if (message.Body is { } body) size += 1 + Delimited(MeasureAnyValue(body, cache));
        size += MeasureRepeated(message.Attributes, cache, &MeasureKeyValue);
        if (message.DroppedAttributesCount != 0) size += 1 + ProtoWriter.VarintSize(message.DroppedAttributesCount);
        if (message.Flags != 0) size += 1 + 4;
        if (message.TraceId.Length != 0) size += BytesField(message.TraceId);
        if (message.SpanId.Length != 0) size += BytesField(message.SpanId);
        if (message.ObservedTimeUnixNano != 0) size += 9;
        if (message.EventName.Length != 0) size += StringField(message.EventName, cache);
        return cache.Set(slot, size);
    }

    private static void WriteLogRecord(ref ProtoWriter writer, LogRecord message)
    {
        writer.Length();
        if (message.TimeUnixNano != 0)
        {
            writer.Tag(0x09);
            writer.Fixed64(message.TimeUnixNano);
        }
        if (message.SeverityNumber != SeverityNumber.Unspecified)
        {
            writer.Tag(0x10);
            writer.Int32((int)message.SeverityNumber);
        }
        if (message.SeverityText.Length != 0)
        {
            writer.Tag(0x1A);
            writer.String(message.SeverityText);
        }
        if (message.Body is { } body)
        {
            writer.Tag(0x2A);
            WriteAnyValue(ref writer, body);
        }
        WriteRepeated(ref writer, 0x32, message.Attributes, &WriteKeyValue);
        if (message.DroppedAttributesCount != 0)
        {
            writer.Tag(0x38);
            writer.Varint(message.DroppedAttributesCount);
        }
        if (message.Flags != 0)
        {
            writer.Tag(0x45);
            writer.Fixed32(message.Flags);
        }
        if (message.TraceId.Length != 0)
        {
            writer.Tag(0x4A);
            writer.Bytes(message.TraceId);
        }
        if (message.SpanId.Length != 0)
        {
            writer.Tag(0x52);
            writer.Bytes(message.SpanId);
        }
        if (message.ObservedTimeUnixNano != 0)
        {
            writer.Tag(0x59);
            writer.Fixed64(message.ObservedTimeUnixNano);
        }
        if (message.EventName.Length != 0)
        {
            writer.Tag(0x62);
            writer.String(message.EventName);
        }
    }
}
