using System.Reflection;
using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.Collections;
using Google.Protobuf.Reflection;

namespace OtelAi.Otlp.Json;

/// <summary>One field of message <typeparamref name="TMessage"/>: its JSON key and how to read and write it.</summary>
internal abstract class JsonFieldCodec<TMessage>(FieldDescriptor field)
{
    private readonly JsonEncodedText _key = JsonEncodedText.Encode(field.JsonName);

    /// <summary>The lowerCamelCase key, as written on output and shown in error paths.</summary>
    public string JsonName { get; } = field.JsonName;

    protected void WriteKey(Utf8JsonWriter writer) => writer.WritePropertyName(_key);

    /// <summary>Writes key and value, or nothing when the field is unset (proto3 default without presence).</summary>
    public abstract void Write(Utf8JsonWriter writer, TMessage message);

    /// <summary>Reads the value at the current (non-null) token into the message.</summary>
    public abstract void Read(ref Utf8JsonReader reader, TMessage message);
}

internal sealed class SingularJsonField<TMessage, TValue> : JsonFieldCodec<TMessage> where TMessage : class, IMessage
{
    private readonly Func<TMessage, TValue> _get;
    private readonly Action<TMessage, TValue> _set;
    private readonly JsonValueCodec<TValue> _codec;
    private readonly IFieldAccessor? _presence;

    public SingularJsonField(FieldDescriptor field, PropertyInfo property, JsonValueCodec<TValue> codec) : base(field)
    {
        _get = property.GetMethod!.CreateDelegate<Func<TMessage, TValue>>();
        _set = property.SetMethod!.CreateDelegate<Action<TMessage, TValue>>();
        _codec = codec;
        // Oneof members and proto3 `optional` scalars are written whenever set, even to their default value
        // (AnyValue{intValue: 0} must keep its type); messages are present when non-null.
        _presence = field.HasPresence && field.FieldType != FieldType.Message ? field.Accessor : null;
    }

    public override void Write(Utf8JsonWriter writer, TMessage message)
    {
        var value = _get(message);
        if (_presence is not null ? !_presence.HasValue(message) : _codec.IsDefault(value)) return;
        WriteKey(writer);
        _codec.Write(writer, value);
    }

    public override void Read(ref Utf8JsonReader reader, TMessage message) => _set(message, _codec.Read(ref reader));
}

internal sealed class RepeatedJsonField<TMessage, TValue> : JsonFieldCodec<TMessage> where TMessage : class, IMessage
{
    private readonly Func<TMessage, RepeatedField<TValue>> _get;
    private readonly JsonValueCodec<TValue> _codec;

    public RepeatedJsonField(FieldDescriptor field, PropertyInfo property, JsonValueCodec<TValue> codec) : base(field)
    {
        _get = property.GetMethod!.CreateDelegate<Func<TMessage, RepeatedField<TValue>>>();
        _codec = codec;
    }

    public override void Write(Utf8JsonWriter writer, TMessage message)
    {
        var items = _get(message);
        if (items.Count == 0) return;
        WriteKey(writer);
        writer.WriteStartArray();
        for (var i = 0; i < items.Count; i++) _codec.Write(writer, items[i]);
        writer.WriteEndArray();
    }

    public override void Read(ref Utf8JsonReader reader, TMessage message)
    {
        if (reader.TokenType != JsonTokenType.StartArray) throw JsonTokens.Expected(ref reader, "an array");
        var items = _get(message);
        var index = 0;
        while (NextItem(ref reader, index))
        {
            if (reader.TokenType != JsonTokenType.Null)
            {
                try
                {
                    items.Add(_codec.Read(ref reader));
                }
                catch (OtlpJsonException e)
                {
                    e.AddIndex(index);
                    throw;
                }
            }
            index++;
        }
    }

    private static bool NextItem(ref Utf8JsonReader reader, int index)
    {
        try
        {
            return reader.Read() && reader.TokenType != JsonTokenType.EndArray;
        }
        catch (JsonException e)
        {
            var error = new OtlpJsonException(e);
            error.AddIndex(index);
            throw error;
        }
    }
}

/// <summary>
/// An enum field, read and written as its number: through the field's accessor, since a codec typed on each enum
/// (a value type) would have to be made at run time, which Native AOT cannot do.
/// </summary>
internal sealed class EnumJsonField<TMessage>(FieldDescriptor field) : JsonFieldCodec<TMessage>(field) where TMessage : class, IMessage
{
    private readonly IFieldAccessor _accessor = field.Accessor;
    private readonly EnumJsonCodec _codec = new(field.EnumType);
    private readonly Type _enumType = field.EnumType.ClrType;
    private readonly bool _hasPresence = field.HasPresence;

    public override void Write(Utf8JsonWriter writer, TMessage message)
    {
        if (_hasPresence && !_accessor.HasValue(message)) return;
        var number = Convert.ToInt32(_accessor.GetValue(message), System.Globalization.CultureInfo.InvariantCulture);
        if (!_hasPresence && number == 0) return;
        WriteKey(writer);
        _codec.Write(writer, number);
    }

    public override void Read(ref Utf8JsonReader reader, TMessage message) =>
        _accessor.SetValue(message, Enum.ToObject(_enumType, _codec.Read(ref reader)));
}

internal static class JsonFieldCodecs
{
    public static JsonFieldCodec<TMessage> Create<TMessage>(FieldDescriptor field, PropertyInfo property) where TMessage : class, IMessage
    {
        if (field.IsMap) throw new NotSupportedException($"map field {field.FullName} is not supported by the OTLP/JSON codec");
        // Scalar fields name their value type here, so that Native AOT compiles each field codec it needs; only
        // message-typed fields (reference types, whose shared code AOT always has) are made at run time.
        return field.FieldType switch
        {
            FieldType.Bool => Typed<TMessage, bool>(field, property, BoolJsonCodec.Instance),
            FieldType.String => Typed<TMessage, string>(field, property, StringJsonCodec.Instance),
            FieldType.Bytes => Typed<TMessage, ByteString>(field, property, HexId(field) ?? (JsonValueCodec<ByteString>)Base64JsonCodec.Instance),
            FieldType.Double => Typed<TMessage, double>(field, property, DoubleJsonCodec.Instance),
            FieldType.Float => Typed<TMessage, float>(field, property, FloatJsonCodec.Instance),
            FieldType.Int32 or FieldType.SInt32 or FieldType.SFixed32 => Typed<TMessage, int>(field, property, Int32JsonCodec.Instance),
            FieldType.UInt32 or FieldType.Fixed32 => Typed<TMessage, uint>(field, property, UInt32JsonCodec.Instance),
            FieldType.Int64 or FieldType.SInt64 or FieldType.SFixed64 => Typed<TMessage, long>(field, property, Int64JsonCodec.Instance),
            FieldType.UInt64 or FieldType.Fixed64 => Typed<TMessage, ulong>(field, property, UInt64JsonCodec.Instance),
            FieldType.Enum when !field.IsRepeated => new EnumJsonField<TMessage>(field),
            FieldType.Message => MessageField<TMessage>(field, property),
            _ => throw new NotSupportedException($"field type {field.FieldType}{(field.IsRepeated ? " (repeated)" : "")} ({field.FullName}) is not supported by the OTLP/JSON codec"),
        };
    }

    private static JsonFieldCodec<TMessage> Typed<TMessage, TValue>(FieldDescriptor field, PropertyInfo property, JsonValueCodec<TValue> codec)
        where TMessage : class, IMessage =>
        field.IsRepeated ? new RepeatedJsonField<TMessage, TValue>(field, property, codec) : new SingularJsonField<TMessage, TValue>(field, property, codec);

    private static JsonFieldCodec<TMessage> MessageField<TMessage>(FieldDescriptor field, PropertyInfo property) where TMessage : class, IMessage
    {
        var valueType = field.IsRepeated ? property.PropertyType.GetGenericArguments()[0] : property.PropertyType;
        var fieldType = (field.IsRepeated ? typeof(RepeatedJsonField<,>) : typeof(SingularJsonField<,>)).MakeGenericType(typeof(TMessage), valueType);
        return (JsonFieldCodec<TMessage>)Activator.CreateInstance(fieldType, field, property, MessageCodec(field, valueType))!;
    }

    private static object MessageCodec(FieldDescriptor field, Type valueType) => field.MessageType.FullName switch
    {
        "google.protobuf.Any" => AnyJsonCodec.Instance,
        "google.protobuf.Duration" => DurationJsonCodec.Instance,
        var name when name.StartsWith("google.protobuf.", StringComparison.Ordinal) =>
            throw new NotSupportedException($"well-known type {name} ({field.FullName}) is not supported by the OTLP/JSON codec"),
        _ => JsonCodecs.For(valueType),
    };

    // The OTLP/JSON rule: trace and span ids in OTLP messages (spans, links, log records, exemplars) are hex.
    private static HexIdJsonCodec? HexId(FieldDescriptor field)
    {
        if (!field.ContainingType.File.Package.StartsWith("opentelemetry.proto.", StringComparison.Ordinal)) return null;
        return field.Name switch
        {
            "trace_id" => new HexIdJsonCodec(16, "trace id"),
            "span_id" => new HexIdJsonCodec(8, "span id"),
            "parent_span_id" => new HexIdJsonCodec(8, "parent span id"),
            _ => null,
        };
    }
}
