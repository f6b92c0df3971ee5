using System.Globalization;
using Google.Protobuf;
using Google.Protobuf.Collections;
using OtelAi.Otlp.Proto.Common.V1;

namespace OtelAi.Otlp;

/// <summary>
/// Map operations on OTLP attribute lists (a RepeatedField of KeyValue with unique keys). Linear scans: attribute
/// lists are short, and a scan beats building a dictionary per span.
/// </summary>
public static class Attributes
{
    public static int IndexOf(this RepeatedField<KeyValue> attributes, string key)
    {
        for (var i = 0; i < attributes.Count; i++)
            if (string.Equals(attributes[i].Key, key, StringComparison.Ordinal)) return i;
        return -1;
    }

    public static AnyValue? Get(this RepeatedField<KeyValue> attributes, string key)
    {
        var i = attributes.IndexOf(key);
        return i < 0 ? null : attributes[i].Value;
    }

    /// <summary>Sets the value whether or not the key exists (otelcol's upsert).</summary>
    public static void Upsert(this RepeatedField<KeyValue> attributes, string key, AnyValue value)
    {
        var i = attributes.IndexOf(key);
        if (i >= 0) attributes[i].Value = value;
        else attributes.Add(new KeyValue { Key = key, Value = value });
    }

    /// <summary>Adds the key only when absent; returns whether it was added.</summary>
    public static bool Insert(this RepeatedField<KeyValue> attributes, string key, AnyValue value)
    {
        if (attributes.IndexOf(key) >= 0) return false;
        attributes.Add(new KeyValue { Key = key, Value = value });
        return true;
    }

    /// <summary>Replaces the value only when the key exists; returns whether it did.</summary>
    public static bool Update(this RepeatedField<KeyValue> attributes, string key, AnyValue value)
    {
        var i = attributes.IndexOf(key);
        if (i < 0) return false;
        attributes[i].Value = value;
        return true;
    }

    public static bool Remove(this RepeatedField<KeyValue> attributes, string key)
    {
        var i = attributes.IndexOf(key);
        if (i < 0) return false;
        attributes.RemoveAt(i);
        return true;
    }

    public static AnyValue String(string value) => new() { StringValue = value };
    public static AnyValue Int(long value) => new() { IntValue = value };
    public static AnyValue Double(double value) => new() { DoubleValue = value };
    public static AnyValue Bool(bool value) => new() { BoolValue = value };

    /// <summary>
    /// The value as text the way otelcol's pcommon Value.AsString renders it: strings as is, numbers invariant,
    /// bools lower-case, bytes base64, maps and arrays as JSON.
    /// </summary>
    public static string AsString(this AnyValue? value) => value?.ValueCase switch
    {
        null or AnyValue.ValueOneofCase.None => "",
        AnyValue.ValueOneofCase.StringValue => value.StringValue,
        AnyValue.ValueOneofCase.BoolValue => value.BoolValue ? "true" : "false",
        AnyValue.ValueOneofCase.IntValue => value.IntValue.ToString(CultureInfo.InvariantCulture),
        AnyValue.ValueOneofCase.DoubleValue => value.DoubleValue.ToString("R", CultureInfo.InvariantCulture),
        AnyValue.ValueOneofCase.BytesValue => value.BytesValue.ToBase64(),
        _ => AnyValueJson(value),
    };

    private static string AnyValueJson(AnyValue value)
    {
        using var stream = new MemoryStream();
        using (var writer = new System.Text.Json.Utf8JsonWriter(stream)) WriteJson(writer, value);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteJson(System.Text.Json.Utf8JsonWriter writer, AnyValue value)
    {
        switch (value.ValueCase)
        {
            case AnyValue.ValueOneofCase.StringValue: writer.WriteStringValue(value.StringValue); break;
            case AnyValue.ValueOneofCase.BoolValue: writer.WriteBooleanValue(value.BoolValue); break;
            case AnyValue.ValueOneofCase.IntValue: writer.WriteNumberValue(value.IntValue); break;
            case AnyValue.ValueOneofCase.DoubleValue: writer.WriteNumberValue(value.DoubleValue); break;
            case AnyValue.ValueOneofCase.BytesValue: writer.WriteStringValue(value.BytesValue.ToBase64()); break;
            case AnyValue.ValueOneofCase.ArrayValue:
                writer.WriteStartArray();
                foreach (var item in value.ArrayValue.Values) WriteJson(writer, item);
                writer.WriteEndArray();
                break;
            case AnyValue.ValueOneofCase.KvlistValue:
                writer.WriteStartObject();
                foreach (var kv in value.KvlistValue.Values)
                {
                    writer.WritePropertyName(kv.Key);
                    if (kv.Value is null) writer.WriteNullValue(); else WriteJson(writer, kv.Value);
                }
                writer.WriteEndObject();
                break;
            default: writer.WriteNullValue(); break;
        }
    }
}
