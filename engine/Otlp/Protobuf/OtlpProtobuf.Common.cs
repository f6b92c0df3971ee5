using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Resource.V1;

namespace OtelAi.Otlp.Protobuf;

// opentelemetry/proto/common/v1/common.proto and resource/v1/resource.proto.
internal static unsafe partial class OtlpProtobuf
{
    private static int MeasureKeyValue(KeyValue message, SizeCache cache)
    {
        var slot = cache.Reserve();
        var size = 0;
        size += StringSize(message.Key, cache);
        if (message.Value is { } value) size += 1 + Delimited(MeasureAnyValue(value, cache));
        return cache.Set(slot, size);
    }

    private static void WriteKeyValue(ref ProtoWriter writer, KeyValue message)
    {
        writer.Length();
        writer.StringField(0x0A, message.Key);
        if (message.Value is { } value)
        {
            writer.Tag(0x12);
            WriteAnyValue(ref writer, value);
        }
    }

    // A oneof member is written whenever it is the set case, even with its default value.
    private static int MeasureAnyValue(AnyValue message, SizeCache cache)
    {
        var slot = cache.Reserve();
        var size = message.ValueCase switch
        {
            AnyValue.ValueOneofCase.StringValue => StringField(message.StringValue, cache),
            AnyValue.ValueOneofCase.BoolValue => 2,
            AnyValue.ValueOneofCase.IntValue => 1 + ProtoWriter.VarintSize((ulong)message.IntValue),
            AnyValue.ValueOneofCase.DoubleValue => 9,
            AnyValue.ValueOneofCase.ArrayValue => 1 + Delimited(MeasureArrayValue(message.ArrayValue, cache)),
            AnyValue.ValueOneofCase.KvlistValue => 1 + Delimited(MeasureKeyValueList(message.KvlistValue, cache)),
            AnyValue.ValueOneofCase.BytesValue => BytesField(message.BytesValue),
            _ => 0,
        };
        return cache.Set(slot, size);
    }

    private static void WriteAnyValue(ref ProtoWriter writer, AnyValue message)
    {
        writer.Length();
        switch (message.ValueCase)
        {
            case AnyValue.ValueOneofCase.StringValue:
                writer.Tag(0x0A);
                writer.String(message.StringValue);
                break;
            case AnyValue.ValueOneofCase.BoolValue:
                writer.Tag(0x10);
                writer.Bool(message.BoolValue);
                break;
            case AnyValue.ValueOneofCase.IntValue:
                writer.Tag(0x18);
                writer.Varint((ulong)message.IntValue);
                break;
            case AnyValue.ValueOneofCase.DoubleValue:
                writer.Tag(0x21);
                writer.Double(message.DoubleValue);
                break;
            case AnyValue.ValueOneofCase.ArrayValue:
                writer.Tag(0x2A);
                WriteArrayValue(ref writer, message.ArrayValue);
                break;
            case AnyValue.ValueOneofCase.KvlistValue:
                writer.Tag(0x32);
                WriteKeyValueList(ref writer, message.KvlistValue);
                break;
            case AnyValue.ValueOneofCase.BytesValue:
                writer.Tag(0x3A);
                writer.Bytes(message.BytesValue);
                break;
        }
    }

    private static int MeasureArrayValue(ArrayValue message, SizeCache cache) =>
        MeasureListMessage(message.Values, cache, &MeasureAnyValue);

    private static void WriteArrayValue(ref ProtoWriter writer, ArrayValue message) =>
        WriteListMessage(ref writer, message.Values, &WriteAnyValue);

    private static int MeasureKeyValueList(KeyValueList message, SizeCache cache) =>
        MeasureListMessage(message.Values, cache, &MeasureKeyValue);

    private static void WriteKeyValueList(ref ProtoWriter writer, KeyValueList message) =>
        WriteListMessage(ref writer, message.Values, &WriteKeyValue);

    private static int MeasureScope(InstrumentationScope message, SizeCache cache)
    {
        var slot = cache.Reserve();
        var size = 0;
        size += StringSize(message.Name, cache);
        size += StringSize(message.Version, cache);
        size += MeasureRepeated(message.Attributes, cache, &MeasureKeyValue);
        size += UInt32Size(message.DroppedAttributesCount);
        return cache.Set(slot, size);
    }

    private static void WriteScope(ref ProtoWriter writer, InstrumentationScope message)
    {
        writer.Length();
        writer.StringField(0x0A, message.Name);
        writer.StringField(0x12, message.Version);
        WriteRepeated(ref writer, 0x1A, message.Attributes, &WriteKeyValue);
        writer.UInt32Field(0x20, message.DroppedAttributesCount);
    }

    private static int MeasureEntityRef(EntityRef message, SizeCache cache)
    {
        var slot = cache.Reserve();
        var size = 0;
        size += StringSize(message.SchemaUrl, cache);
        size += StringSize(message.Type, cache);
        // Repeated strings are not packed: every element, empty or not, is written with its own tag.
        for (var i = 0; i < message.IdKeys.Count; i++) size += StringField(message.IdKeys[i], cache);
        for (var i = 0; i < message.DescriptionKeys.Count; i++) size += StringField(message.DescriptionKeys[i], cache);
        return cache.Set(slot, size);
    }

    private static void WriteEntityRef(ref ProtoWriter writer, EntityRef message)
    {
        writer.Length();
        writer.StringField(0x0A, message.SchemaUrl);
        writer.StringField(0x12, message.Type);
        for (var i = 0; i < message.IdKeys.Count; i++)
        {
            writer.Tag(0x1A);
            writer.String(message.IdKeys[i]);
        }
        for (var i = 0; i < message.DescriptionKeys.Count; i++)
        {
            writer.Tag(0x22);
            writer.String(message.DescriptionKeys[i]);
        }
    }

    private static int MeasureResource(Resource message, SizeCache cache)
    {
        var slot = cache.Reserve();
        var size = MeasureRepeated(message.Attributes, cache, &MeasureKeyValue);
        size += UInt32Size(message.DroppedAttributesCount);
        size += MeasureRepeated(message.EntityRefs, cache, &MeasureEntityRef);
        return cache.Set(slot, size);
    }

    private static void WriteResource(ref ProtoWriter writer, Resource message)
    {
        writer.Length();
        WriteRepeated(ref writer, 0x0A, message.Attributes, &WriteKeyValue);
        writer.UInt32Field(0x10, message.DroppedAttributesCount);
        WriteRepeated(ref writer, 0x1A, message.EntityRefs, &WriteEntityRef);
    }
}
