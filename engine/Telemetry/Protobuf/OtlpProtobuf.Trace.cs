using OtelAi.Proto.Trace.V1;

namespace OtelAi.Engine.Telemetry;

// opentelemetry/proto/trace/v1/trace.proto.
public static unsafe partial class OtlpProtobuf
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
        if (message.TraceId.Length != 0) size += BytesField(message.TraceId);
        if (message.SpanId.Length != 0) size += BytesField(message.SpanId);
        if (message.TraceState.Length != 0) size += StringField(message.TraceState, cache);
        if (message.ParentSpanId.Length != 0) size += BytesField(message.ParentSpanId);
        if (message.Name.Length != 0) size += StringField(message.Name, cache);
        if (message.Kind != Span.Types.SpanKind.Unspecified) size += 1 + ProtoWriter.Int32Size((int)message.Kind);
        if (message.StartTimeUnixNano != 0) size += 9;
        if (message.EndTimeUnixNano != 0) size += 9;
        size += MeasureRepeated(message.Attributes, cache, &MeasureKeyValue);
        if (message.DroppedAttributesCount != 0) size += 1 + ProtoWriter.VarintSize(message.DroppedAttributesCount);
        size += MeasureRepeated(message.Events, cache, &MeasureEvent);
        if (message.DroppedEventsCount != 0) size += 1 + ProtoWriter.VarintSize(message.DroppedEventsCount);
        size += MeasureRepeated(message.Links, cache, &MeasureLink);
        if (message.DroppedLinksCount != 0) size += 1 + ProtoWriter.VarintSize(message.DroppedLinksCount);
        if (message.Status is { } status) size += 1 + Delimited(MeasureStatus(status, cache));
        if (message.Flags != 0) size += 2 + 4;
        return cache.Set(slot, size);
    }

    private static void WriteSpan(ref ProtoWriter writer, Span message)
    {
        writer.Length();
        if (message.TraceId.Length != 0)
        {
            writer.Tag(0x0A);
            writer.Bytes(message.TraceId);
        }
        if (message.SpanId.Length != 0)
        {
            writer.Tag(0x12);
            writer.Bytes(message.SpanId);
        }
        if (message.TraceState.Length != 0)
        {
            writer.Tag(0x1A);
            writer.String(message.TraceState);
        }
        if (message.ParentSpanId.Length != 0)
        {
            writer.Tag(0x22);
            writer.Bytes(message.ParentSpanId);
        }
        if (message.Name.Length != 0)
        {
            writer.Tag(0x2A);
            writer.String(message.Name);
        }
        if (message.Kind != Span.Types.SpanKind.Unspecified)
        {
            writer.Tag(0x30);
            writer.Int32((int)message.Kind);
        }
        if (message.StartTimeUnixNano != 0)
        {
            writer.Tag(0x39);
            writer.Fixed64(message.StartTimeUnixNano);
        }
        if (message.EndTimeUnixNano != 0)
        {
            writer.Tag(0x41);
            writer.Fixed64(message.EndTimeUnixNano);
        }
        WriteRepeated(ref writer, 0x4A, message.Attributes, &WriteKeyValue);
        if (message.DroppedAttributesCount != 0)
        {
            writer.Tag(0x50);
            writer.Varint(message.DroppedAttributesCount);
        }
        WriteRepeated(ref writer, 0x5A, message.Events, &WriteEvent);
        if (message.DroppedEventsCount != 0)
        {
            writer.Tag(0x60);
            writer.Varint(message.DroppedEventsCount);
        }
        WriteRepeated(ref writer, 0x6A, message.Links, &WriteLink);
        if (message.DroppedLinksCount != 0)
        {
            writer.Tag(0x70);
            writer.Varint(message.DroppedLinksCount);
        }
        if (message.Status is { } status)
        {
            writer.Tag(0x7A);
            WriteStatus(ref writer, status);
        }
        if (message.Flags != 0)
        {
            // Field 16 needs a two-byte tag.
            writer.Tag(0x85, 0x01);
            writer.Fixed32(message.Flags);
        }
    }

    private static int MeasureEvent(Span.Types.Event message, SizeCache cache)
    {
        var slot = cache.Reserve();
        var size = 0;
        if (message.TimeUnixNano != 0) size += 9;
        if (message.Name.Length != 0) size += StringField(message.Name, cache);
        size += MeasureRepeated(message.Attributes, cache, &MeasureKeyValue);
        if (message.DroppedAttributesCount != 0) size += 1 + ProtoWriter.VarintSize(message.DroppedAttributesCount);
        return cache.Set(slot, size);
    }

    private static void WriteEvent(ref ProtoWriter writer, Span.Types.Event message)
    {
        writer.Length();
        if (message.TimeUnixNano != 0)
        {
            writer.Tag(0x09);
            writer.Fixed64(message.TimeUnixNano);
        }
        if (message.Name.Length != 0)
        {
            writer.Tag(0x12);
            writer.String(message.Name);
        }
        WriteRepeated(ref writer, 0x1A, message.Attributes, &WriteKeyValue);
        if (message.DroppedAttributesCount != 0)
        {
            writer.Tag(0x20);
            writer.Varint(message.DroppedAttributesCount);
        }
    }

    private static int MeasureLink(Span.Types.Link message, SizeCache cache)
    {
        var slot = cache.Reserve();
        var size = 0;
        if (message.TraceId.Length != 0) size += BytesField(message.TraceId);
        if (message.SpanId.Length != 0) size += BytesField(message.SpanId);
        if (message.TraceState.Length != 0) size += StringField(message.TraceState, cache);
        size += MeasureRepeated(message.Attributes, cache, &MeasureKeyValue);
        if (message.DroppedAttributesCount != 0) size += 1 + ProtoWriter.VarintSize(message.DroppedAttributesCount);
        if (message.Flags != 0) size += 1 + 4;
        return cache.Set(slot, size);
    }

    private static void WriteLink(ref ProtoWriter writer, Span.Types.Link message)
    {
        writer.Length();
        if (message.TraceId.Length != 0)
        {
            writer.Tag(0x0A);
            writer.Bytes(message.TraceId);
        }
        if (message.SpanId.Length != 0)
        {
            writer.Tag(0x12);
            writer.Bytes(message.SpanId);
        }
        if (message.TraceState.Length != 0)
        {
            writer.Tag(0x1A);
            writer.String(message.TraceState);
        }
        WriteRepeated(ref writer, 0x22, message.Attributes, &WriteKeyValue);
        if (message.DroppedAttributesCount != 0)
        {
            writer.Tag(0x28);
            writer.Varint(message.DroppedAttributesCount);
        }
        if (message.Flags != 0)
        {
            writer.Tag(0x35);
            writer.Fixed32(message.Flags);
        }
    }

    private static int MeasureStatus(Status message, SizeCache cache)
    {
        var slot = cache.Reserve();
        var size = 0;
        if (message.Message.Length != 0) size += StringField(message.Message, cache);
        if (message.Code != Status.Types.StatusCode.Unset) size += 1 + ProtoWriter.Int32Size((int)message.Code);
        return cache.Set(slot, size);
    }

    private static void WriteStatus(ref ProtoWriter writer, Status message)
    {
        writer.Length();
        if (message.Message.Length != 0)
        {
            writer.Tag(0x12);
            writer.String(message.Message);
        }
        if (message.Code != Status.Types.StatusCode.Unset)
        {
            writer.Tag(0x18);
            writer.Int32((int)message.Code);
        }
    }
}
