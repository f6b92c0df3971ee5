using System.Globalization;
using Google.Protobuf;
using Google.Protobuf.Collections;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Common.V1;

namespace OtelAi.Processors.Ottl;

public enum OttlType : byte
{
    Nil,
    Bool,
    Int,
    Double,
    String,
    Bytes,
    /// <summary>A map: <see cref="OttlValue.Ref"/> is the RepeatedField&lt;KeyValue&gt; itself (attributes, kvlist).</summary>
    Map,
    /// <summary>A list: <see cref="OttlValue.Ref"/> is a RepeatedField&lt;AnyValue&gt;.</summary>
    List,
    /// <summary>A point in time: <see cref="OttlValue.Int"/> holds Unix nanoseconds.</summary>
    Time,
    /// <summary>A duration: <see cref="OttlValue.Int"/> holds nanoseconds.</summary>
    Duration,
}

/// <summary>
/// One OTTL value without boxing: scalars live in <see cref="Int"/>/<see cref="Double"/>, strings, bytes, maps and
/// lists are references into the telemetry itself (no copies on read).
/// </summary>
public readonly struct OttlValue
{
    public readonly OttlType Type;

    /// <summary>Int, bool (0/1), time and duration payload; for doubles, the IEEE bits (keeps the struct at 24 bytes).</summary>
    public readonly long Int;

    public readonly object? Ref;

    private OttlValue(OttlType type, long i, double d, object? r)
    {
        Type = type;
        Int = type == OttlType.Double ? BitConverter.DoubleToInt64Bits(d) : i;
        Ref = r;
    }

    public double Double => BitConverter.Int64BitsToDouble(Int);

    public static readonly OttlValue Nil = default;
    public static readonly OttlValue True = new(OttlType.Bool, 1, 0, null);
    public static readonly OttlValue False = new(OttlType.Bool, 0, 0, null);

    public static OttlValue Of(bool value) => value ? True : False;
    public static OttlValue Of(long value) => new(OttlType.Int, value, 0, null);
    public static OttlValue Of(double value) => new(OttlType.Double, 0, value, null);
    public static OttlValue Of(string? value) => value is null ? Nil : new(OttlType.String, 0, 0, value);
    public static OttlValue Of(ByteString value) => new(OttlType.Bytes, 0, 0, value);
    public static OttlValue Of(RepeatedField<KeyValue> map) => new(OttlType.Map, 0, 0, map);
    public static OttlValue Of(RepeatedField<AnyValue> list) => new(OttlType.List, 0, 0, list);
    public static OttlValue TimeOf(long unixNanos) => new(OttlType.Time, unixNanos, 0, null);
    public static OttlValue DurationOf(long nanos) => new(OttlType.Duration, nanos, 0, null);

    public bool IsNil => Type == OttlType.Nil;
    public bool Bool => Int != 0;
    public string String => (string)Ref!;
    public ByteString Bytes => (ByteString)Ref!;
    public RepeatedField<KeyValue> Map => (RepeatedField<KeyValue>)Ref!;
    public RepeatedField<AnyValue> List => (RepeatedField<AnyValue>)Ref!;

    /// <summary>Reads an attribute value in place (maps and lists stay references into the data).</summary>
    public static OttlValue FromAny(AnyValue? value) => value?.ValueCase switch
    {
        AnyValue.ValueOneofCase.StringValue => new(OttlType.String, 0, 0, value.StringValue),
        AnyValue.ValueOneofCase.IntValue => new(OttlType.Int, value.IntValue, 0, null),
        AnyValue.ValueOneofCase.DoubleValue => new(OttlType.Double, 0, value.DoubleValue, null),
        AnyValue.ValueOneofCase.BoolValue => value.BoolValue ? True : False,
        AnyValue.ValueOneofCase.BytesValue => new(OttlType.Bytes, 0, 0, value.BytesValue),
        AnyValue.ValueOneofCase.KvlistValue => new(OttlType.Map, 0, 0, value.KvlistValue.Values),
        AnyValue.ValueOneofCase.ArrayValue => new(OttlType.List, 0, 0, value.ArrayValue.Values),
        _ => Nil,
    };

    /// <summary>
    /// Writes this value into <paramref name="target"/> (reusing the target's object, so setting a scalar allocates
    /// nothing). Maps and lists are deep-copied so two places never share one mutable message.
    /// </summary>
    public void WriteTo(AnyValue target)
    {
        switch (Type)
        {
            case OttlType.String: target.StringValue = String; break;
            case OttlType.Int: target.IntValue = Int; break;
            case OttlType.Double: target.DoubleValue = Double; break;
            case OttlType.Bool: target.BoolValue = Bool; break;
            case OttlType.Bytes: target.BytesValue = Bytes; break;
            case OttlType.Map:
                var kv = new KeyValueList();
                foreach (var item in Map) kv.Values.Add(item.Clone());
                target.KvlistValue = kv;
                break;
            case OttlType.List:
                var array = new ArrayValue();
                foreach (var item in List) array.Values.Add(item.Clone());
                target.ArrayValue = array;
                break;
            case OttlType.Time:
            case OttlType.Duration:
                throw new OttlRuntimeException($"a {TypeName} cannot be stored in a telemetry value; convert it first (e.g. UnixNano)");
            default: target.ClearValue(); break;
        }
    }

    public AnyValue ToAny()
    {
        var value = new AnyValue();
        WriteTo(value);
        return value;
    }

    public string TypeName => Type switch
    {
        OttlType.Nil => "nil",
        OttlType.Bool => "bool",
        OttlType.Int => "int",
        OttlType.Double => "double",
        OttlType.String => "string",
        OttlType.Bytes => "bytes",
        OttlType.Map => "map",
        OttlType.List => "list",
        OttlType.Time => "time",
        _ => "duration",
    };

    /// <summary>Text form as otelcol's pcommon Value.AsString renders it.</summary>
    public string AsString() => Type switch
    {
        OttlType.Nil => "",
        OttlType.String => String,
        OttlType.Bool => Bool ? "true" : "false",
        OttlType.Int => Int.ToString(CultureInfo.InvariantCulture),
        OttlType.Double => Double.ToString("R", CultureInfo.InvariantCulture),
        OttlType.Time => DateTimeOffset.UnixEpoch.AddTicks(Int / 100).ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", CultureInfo.InvariantCulture),
        OttlType.Duration => TimeSpan.FromTicks(Int / 100).ToString("c", CultureInfo.InvariantCulture),
        _ => ToAny().AsString(),
    };

    public override string ToString() => Type == OttlType.String ? $"\"{String}\"" : AsString();
}
