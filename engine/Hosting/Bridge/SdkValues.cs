using System.Globalization;
using Google.Protobuf;
using Google.Protobuf.Collections;
using OtelAi.Otlp.Proto.Common.V1;

namespace OtelAi.Hosting.Bridge;

/// <summary>
/// Attribute values of the OpenTelemetry .NET SDK as its OTLP exporter writes them: integers of every width up to
/// <c>long</c> as ints, <c>float</c>/<c>double</c> as doubles, <c>char</c> and strings as strings, <c>byte[]</c> as
/// bytes, other arrays as array values (element by element under the same rules, null as an empty value), key/value
/// lists as kvlists three levels deep (deeper ones as their string form), null as an empty value, anything else as
/// its invariant string (<c>ulong</c>, <c>decimal</c>, enums, ...).
/// </summary>
internal static class SdkValues
{
    private const int MaxDepth = 3;

    public static void Add(RepeatedField<KeyValue> target, string key, object? value)
    {
        if (Convert(value, 0) is { } converted) target.Add(new KeyValue { Key = key, Value = converted });
    }

    public static void AddAll(RepeatedField<KeyValue> target, IEnumerable<KeyValuePair<string, object?>>? tags)
    {
        if (tags is null) return;
        foreach (var (key, value) in tags) Add(target, key, value);
    }

    /// <summary>The value, or null when the SDK drops it (its string form throws or is null).</summary>
    private static AnyValue? Convert(object? value, int depth)
    {
        if (value is null) return new AnyValue();
        if (Scalar(value) is { } scalar) return scalar;
        switch (value)
        {
            case IEnumerable<KeyValuePair<string, object?>> list when depth < MaxDepth:
                var kvlist = new KeyValueList();
                foreach (var (key, item) in list)
                    if (Convert(item, depth + 1) is { } converted) kvlist.Values.Add(new KeyValue { Key = key, Value = converted });
                return new AnyValue { KvlistValue = kvlist };
            case byte[] bytes:
                return new AnyValue { BytesValue = ByteString.CopyFrom(bytes) };
            case Array array when value is not IEnumerable<KeyValuePair<string, object?>>:
                var values = new ArrayValue();
                try
                {
                    foreach (var item in array)
                        values.Values.Add(item is null ? new AnyValue() : Scalar(item) ?? Text(item) ?? new AnyValue());
                }
                catch
                {
                    return null; // an element's ToString threw: the SDK drops the whole array
                }
                return new AnyValue { ArrayValue = values };
            default:
                try
                {
                    return Text(value);
                }
                catch
                {
                    return null; // the SDK drops a tag whose ToString throws
                }
        }
    }

    /// <summary>The SDK's primitive types (what it writes as a string, bool, int or double); null for anything else.</summary>
    private static AnyValue? Scalar(object value) => value switch
    {
        char c => new AnyValue { StringValue = c.ToString() },
        string s => new AnyValue { StringValue = s },
        bool b => new AnyValue { BoolValue = b },
        byte n => new AnyValue { IntValue = n },
        sbyte n => new AnyValue { IntValue = n },
        short n => new AnyValue { IntValue = n },
        ushort n => new AnyValue { IntValue = n },
        int n => new AnyValue { IntValue = n },
        uint n => new AnyValue { IntValue = n },
        long n => new AnyValue { IntValue = n },
        float f => new AnyValue { DoubleValue = f },
        double d => new AnyValue { DoubleValue = d },
        _ => null,
    };

    private static AnyValue? Text(object value) =>
        System.Convert.ToString(value, CultureInfo.InvariantCulture) is { } text ? new AnyValue { StringValue = text } : null;
}
