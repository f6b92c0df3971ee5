using OtelAi.Otlp.Proto.Trace.V1;

namespace OtelAi.Otlp.Protobuf;

// opentelemetry/proto/trace/v1/trace.proto.
internal static unsafe partial class OtlpProtobuf
{
    private static int MeasureResourceSpans(ResourceSpans message, SizeCache cache) =>
        MeasureGroup(message.Resource, &MeasureResource, message.ScopeSpans, &MeasureScopeSpans, message.SchemaUrl, cache);

    private static void WriteResourceSpans(ref ProtoWriter writer, ResourceSpans message) =>
        WriteGroup(ref writer, message.Resource, &WriteResource, message.ScopeSpans, &WriteScopeSpans, message.SchemaUrl);

    private static int MeasureScopeSpans(ScopeSpans message, SizeCache cache) =>
        MeasureGroup(message.Scope, &MeasureScope, message.Spans, &MeasureSpan, message.SchemaUrl, cache);

    private static void WriteScopeSpans(ref ProtoWriter writer, ScopeSpans message) =>
        WriteGroup(ref writer, message.Scope, &WriteScope, message.Spans, &WriteSpan, message.SchemaUrl);

    private static int MeasureSpan(Span message, SizeCache cache)
    {
        var slot = cache.Reserve();
        var size = 0;
        size += BytesSize(message.TraceId);
        size += BytesSize(message.SpanId);
        size += StringSize(message.TraceState, cache);
        size += BytesSize(message.ParentSpanId);
        size += StringSize(message.Name, cache);
        size += EnumSize((int)message.Kind);
        size += Fixed64Size(message.StartTimeUnixNano);
        size += Fixed64Size(message.EndTimeUnixNano);
        size += MeasureRepeated(message.Attributes, cache, &MeasureKeyValue);
        size += UInt32Size(message.DroppedAttributesCount);
        size += MeasureRepeated(message.Events, cache, &MeasureEvent);
        size += UInt32Size(message.DroppedEventsCount);
        size += MeasureRepeated(message.Links, cache, &MeasureLink);
        size += UInt32Size(message.DroppedLinksCount);
        if (message.Status is { } status) size += 1 + Delimited(MeasureStatus(status, cache));
        if (message.Flags != 0) size += 2 + 4; // field 16: two-byte tag
        return cache.Set(slot, size);
    }

    private static void WriteSpan(ref ProtoWriter writer, Span message)
    {
        writer.Length();
        writer.BytesField(0x0A, message.TraceId);
        writer.BytesField(0x12, message.SpanId);
        writer.StringField(0x1A, message.TraceState);
        writer.BytesField(0x22, message.ParentSpanId);
        writer.StringField(0x2A, message.Name);
        writer.EnumField(0x30, (int)message.Kind);
        writer.Fixed64Field(0x39, message.StartTimeUnixNano);
        writer.Fixed64Field(0x41, message.EndTimeUnixNano);
        WriteRepeated(ref writer, 0x4A, message.Attributes, &WriteKeyValue);
        writer.UInt32Field(0x50, message.DroppedAttributesCount);
        WriteRepeated(ref writer, 0x5A, message.Events, &WriteEvent);
        writer.UInt32Field(0x60, message.DroppedEventsCount);
        WriteRepeated(ref writer, 0x6A, message.Links, &WriteLink);
        writer.UInt32Field(0x70, message.DroppedLinksCount);
        if (message.Status is { } status)
        {
            writer.Tag(0x7A);
            WriteStatus(ref writer, status);
        }
        // Field 16 needs a two-byte tag.
        writer.Fixed32Field(0x85, 0x01, message.Flags);
    }

    private static int MeasureEvent(Span.Types.Event message, SizeCache cache)
    {
        var slot = cache.Reserve();
        var size = 0;
        size += Fixed64Size(message.TimeUnixNano);
        size += StringSize(message.Name, cache);
        size += MeasureRepeated(message.Attributes, cache, &MeasureKeyValue);
        size += UInt32Size(message.DroppedAttributesCount);
        return cache.Set(slot, size);
    }

    private static void WriteEvent(ref ProtoWriter writer, Span.Types.Event message)
    {
        writer.Length();
        writer.Fixed64Field(0x09, message.TimeUnixNano);
        writer.StringField(0x12, message.Name);
        WriteRepeated(ref writer, 0x1A, message.Attributes, &WriteKeyValue);
        writer.UInt32Field(0x20, message.DroppedAttributesCount);
    }

    private static int MeasureLink(Span.Types.Link message, SizeCache cache)
    {
        var slot = cache.Reserve();
        var size = 0;
        size += BytesSize(message.TraceId);
        size += BytesSize(message.SpanId);
        size += StringSize(message.TraceState, cache);
        size += MeasureRepeated(message.Attributes, cache, &MeasureKeyValue);
        size += UInt32Size(message.DroppedAttributesCount);
        size += Fixed32Size(message.Flags);
        return cache.Set(slot, size);
    }

    private static void WriteLink(ref ProtoWriter writer, Span.Types.Link message)
    {
        writer.Length();
        writer.BytesField(0x0A, message.TraceId);
        writer.BytesField(0x12, message.SpanId);
        writer.StringField(0x1A, message.TraceState);
        WriteRepeated(ref writer, 0x22, message.Attributes, &WriteKeyValue);
        writer.UInt32Field(0x28, message.DroppedAttributesCount);
        writer.Fixed32Field(0x35, message.Flags);
    }

    private static int MeasureStatus(Status message, SizeCache cache)
    {
        var slot = cache.Reserve();
        var size = 0;
        size += StringSize(message.Message, cache);
        size += EnumSize((int)message.Code);
        return cache.Set(slot, size);
    }

    private static void WriteStatus(ref ProtoWriter writer, Status message)
    {
        writer.Length();
        writer.StringField(0x12, message.Message);
        writer.EnumField(0x18, (int)message.Code);
    }
}
