using System.Buffers;
using System.Buffers.Text;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace OtelAi.Otlp.Json;

/// <summary>Reads and writes one protobuf value of type <typeparamref name="T"/> in OTLP/JSON form.</summary>
internal abstract class JsonValueCodec<T>
{
    public abstract void Write(Utf8JsonWriter writer, T value);

    /// <summary>Reads the value at the reader's current token (never a JSON null: callers treat null as absent).</summary>
    public abstract T Read(ref Utf8JsonReader reader);

    /// <summary>proto3's default value, which the writer omits for fields without explicit presence.</summary>
    public abstract bool IsDefault(T value);
}

/// <summary>Helpers shared by the value codecs.</summary>
internal static class JsonTokens
{
    /// <summary>Longest numeric / enum-name / id string we accept, unescaped.</summary>
    public const int ShortValueLimit = 256;

    public static OtlpJsonException Invalid(ref Utf8JsonReader reader, string problem) =>
        new(problem, reader.TokenStartIndex);

    /// <summary>
    /// The unescaped UTF-8 of the current string or property name token. Points into the input in the common
    /// case; escaped text or a token split across buffer segments is copied (rare, so a plain array is fine).
    /// Values longer than <see cref="ShortValueLimit"/> are refused: only short values come through here.
    /// </summary>
    public static ReadOnlySpan<byte> ShortString(ref Utf8JsonReader reader, string what)
    {
        if (!reader.HasValueSequence && !reader.ValueIsEscaped) return reader.ValueSpan;
        var length = reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length;
        if (length > ShortValueLimit) throw Invalid(ref reader, $"{what} is too long ({length} bytes)");
        var copy = new byte[length];
        return copy.AsSpan(0, reader.CopyString(copy));
    }

    public static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => token.ToString(),
    };

    public static OtlpJsonException Expected(ref Utf8JsonReader reader, string expected) =>
        Invalid(ref reader, $"expected {expected}, found {Describe(reader.TokenType)}");
}

internal sealed class BoolJsonCodec : JsonValueCodec<bool>
{
    public static readonly BoolJsonCodec Instance = new();

    public override void Write(Utf8JsonWriter writer, bool value) => writer.WriteBooleanValue(value);

    public override bool Read(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.True => true,
        JsonTokenType.False => false,
        _ => throw JsonTokens.Expected(ref reader, "true or false"),
    };

    public override bool IsDefault(bool value) => !value;
}

internal sealed class StringJsonCodec : JsonValueCodec<string>
{
    public static readonly StringJsonCodec Instance = new();

    public override void Write(Utf8JsonWriter writer, string value) => writer.WriteStringValue(value);

    public override string Read(ref Utf8JsonReader reader) =>
        reader.TokenType == JsonTokenType.String ? reader.GetString()! : throw JsonTokens.Expected(ref reader, "a string");

    public override bool IsDefault(string value) => value.Length == 0;
}

/// <summary>Bytes fields other than ids: base64 (standard on output; standard or URL-safe, padded or not, on input).</summary>
internal sealed class Base64JsonCodec : JsonValueCodec<ByteString>
{
    public static readonly Base64JsonCodec Instance = new();

    public override void Write(Utf8JsonWriter writer, ByteString value) => writer.WriteBase64StringValue(value.Span);

    public override ByteString Read(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String) throw JsonTokens.Expected(ref reader, "a base64 string");
        if (reader.TryGetBytesFromBase64(out var bytes)) return UnsafeByteOperations.UnsafeWrap(bytes);
        var text = reader.GetString()!.Replace('-', '+').Replace('_', '/');
        if (text.Length % 4 != 0) text = text.PadRight(text.Length + 4 - text.Length % 4, '=');
        try
        {
            return UnsafeByteOperations.UnsafeWrap(Convert.FromBase64String(text));
        }
        catch (FormatException)
        {
            throw JsonTokens.Invalid(ref reader, "expected a base64 string");
        }
    }

    public override bool IsDefault(ByteString value) => value.IsEmpty;
}

/// <summary>
/// OTLP's trace and span ids: lower-case hex on output (the OTLP/JSON exception to base64), hex of either case
/// on input, exactly <c>2 × length</c> digits or empty.
/// </summary>
internal sealed class HexIdJsonCodec(int length, string what) : JsonValueCodec<ByteString>
{
    public override void Write(Utf8JsonWriter writer, ByteString value)
    {
        var bytes = value.Span;
        Span<byte> hex = bytes.Length <= 64 ? stackalloc byte[bytes.Length * 2] : new byte[bytes.Length * 2];
        for (var i = 0; i < bytes.Length; i++)
        {
            hex[2 * i] = HexDigit(bytes[i] >> 4);
            hex[2 * i + 1] = HexDigit(bytes[i] & 0xF);
        }
        writer.WriteStringValue(hex);
    }

    private static byte HexDigit(int nibble) => (byte)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10);

    public override ByteString Read(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String) throw JsonTokens.Expected(ref reader, $"a {what} as a hex string");
        var hex = JsonTokens.ShortString(ref reader, what);
        if (hex.Length == 0) return ByteString.Empty;
        if (hex.Length != length * 2)
            throw JsonTokens.Invalid(ref reader, $"{what} must be {length * 2} hex digits, got {hex.Length} characters");
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
        {
            var high = HexValue(hex[2 * i]);
            var low = HexValue(hex[2 * i + 1]);
            if ((high | low) < 0) throw JsonTokens.Invalid(ref reader, $"{what} must be hex digits (OTLP/JSON ids are hex, not base64)");
            bytes[i] = (byte)(high << 4 | low);
        }
        return UnsafeByteOperations.UnsafeWrap(bytes);
    }

    private static int HexValue(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        _ => -1,
    };

    public override bool IsDefault(ByteString value) => value.IsEmpty;
}

/// <summary>Numbers: 64-bit integers are written as decimal strings; every integer accepts a number or a string.</summary>
internal static class JsonNumbers
{
    public static long ReadInt64(ref Utf8JsonReader reader, long min, long max, string type)
    {
        long value;
        if (reader.TokenType == JsonTokenType.Number)
        {
            if (!reader.TryGetInt64(out value))
            {
                // 1.0 or 1e3 are integers too (proto3 JSON allows an integral number in exponent form).
                if (!reader.TryGetDouble(out var d) || d != Math.Floor(d) || d < min || d >= UpperBound(max))
                    throw JsonTokens.Invalid(ref reader, $"expected an {type}");
                value = (long)d;
            }
        }
        else if (reader.TokenType == JsonTokenType.String)
        {
            var text = JsonTokens.ShortString(ref reader, type);
            if (!Utf8Parser.TryParse(text, out value, out var used) || used != text.Length)
                throw JsonTokens.Invalid(ref reader, $"expected an {type} as a decimal string");
        }
        else throw JsonTokens.Expected(ref reader, $"an {type}");

        if (value < min || value > max) throw JsonTokens.Invalid(ref reader, $"{value} is out of range for an {type}");
        return value;
    }

    public static ulong ReadUInt64(ref Utf8JsonReader reader, ulong max, string type)
    {
        ulong value;
        if (reader.TokenType == JsonTokenType.Number)
        {
            if (!reader.TryGetUInt64(out value))
            {
                if (!reader.TryGetDouble(out var d) || d != Math.Floor(d) || d < 0 || d >= UpperBound(max))
                    throw JsonTokens.Invalid(ref reader, $"expected a {type}");
                value = (ulong)d;
            }
        }
        else if (reader.TokenType == JsonTokenType.String)
        {
            var text = JsonTokens.ShortString(ref reader, type);
            if (!Utf8Parser.TryParse(text, out value, out var used) || used != text.Length)
                throw JsonTokens.Invalid(ref reader, $"expected a {type} as a decimal string");
        }
        else throw JsonTokens.Expected(ref reader, $"a {type}");

        if (value > max) throw JsonTokens.Invalid(ref reader, $"{value} is out of range for a {type}");
        return value;
    }

    /// <summary>
    /// The least double above <paramref name="max"/>: <c>max + 1</c> rounded. A 64-bit maximum rounds up to 2^63 or
    /// 2^64 as a double, so <c>d &gt; max</c> would let 2^64 through to a saturating conversion.
    /// </summary>
    private static double UpperBound(double max) => max + 1;

    public static double ReadDouble(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Number)
            return reader.TryGetDouble(out var d) ? d : throw JsonTokens.Invalid(ref reader, "expected a number");
        if (reader.TokenType != JsonTokenType.String) throw JsonTokens.Expected(ref reader, "a number");
        var text = JsonTokens.ShortString(ref reader, "number");
        if (text.SequenceEqual("NaN"u8)) return double.NaN;
        if (text.SequenceEqual("Infinity"u8)) return double.PositiveInfinity;
        if (text.SequenceEqual("-Infinity"u8)) return double.NegativeInfinity;
        if (Utf8Parser.TryParse(text, out double parsed, out var used) && used == text.Length) return parsed;
        throw JsonTokens.Invalid(ref reader, "expected a number, \"NaN\", \"Infinity\" or \"-Infinity\"");
    }

    public static void WriteDouble(Utf8JsonWriter writer, double value)
    {
        if (double.IsFinite(value)) writer.WriteNumberValue(value);
        else if (double.IsNaN(value)) writer.WriteStringValue("NaN"u8);
        else writer.WriteStringValue(value > 0 ? "Infinity"u8 : "-Infinity"u8);
    }
}

internal sealed class Int64JsonCodec : JsonValueCodec<long>
{
    public static readonly Int64JsonCodec Instance = new();

    public override void Write(Utf8JsonWriter writer, long value)
    {
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(value, digits, out var written);
        writer.WriteStringValue(digits[..written]);
    }

    public override long Read(ref Utf8JsonReader reader) => JsonNumbers.ReadInt64(ref reader, long.MinValue, long.MaxValue, "int64");

    public override bool IsDefault(long value) => value == 0;
}

internal sealed class UInt64JsonCodec : JsonValueCodec<ulong>
{
    public static readonly UInt64JsonCodec Instance = new();

    public override void Write(Utf8JsonWriter writer, ulong value)
    {
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(value, digits, out var written);
        writer.WriteStringValue(digits[..written]);
    }

    public override ulong Read(ref Utf8JsonReader reader) => JsonNumbers.ReadUInt64(ref reader, ulong.MaxValue, "uint64");

    public override bool IsDefault(ulong value) => value == 0;
}

internal sealed class Int32JsonCodec : JsonValueCodec<int>
{
    public static readonly Int32JsonCodec Instance = new();

    public override void Write(Utf8JsonWriter writer, int value) => writer.WriteNumberValue(value);

    public override int Read(ref Utf8JsonReader reader) => (int)JsonNumbers.ReadInt64(ref reader, int.MinValue, int.MaxValue, "int32");

    public override bool IsDefault(int value) => value == 0;
}

internal sealed class UInt32JsonCodec : JsonValueCodec<uint>
{
    public static readonly UInt32JsonCodec Instance = new();

    public override void Write(Utf8JsonWriter writer, uint value) => writer.WriteNumberValue(value);

    public override uint Read(ref Utf8JsonReader reader) => (uint)JsonNumbers.ReadUInt64(ref reader, uint.MaxValue, "uint32");

    public override bool IsDefault(uint value) => value == 0;
}

internal sealed class DoubleJsonCodec : JsonValueCodec<double>
{
    public static readonly DoubleJsonCodec Instance = new();

    public override void Write(Utf8JsonWriter writer, double value) => JsonNumbers.WriteDouble(writer, value);

    public override double Read(ref Utf8JsonReader reader) => JsonNumbers.ReadDouble(ref reader);

    // Negative zero is not the default: protobuf serializes it, so JSON keeps it too.
    public override bool IsDefault(double value) => BitConverter.DoubleToInt64Bits(value) == 0;
}

internal sealed class FloatJsonCodec : JsonValueCodec<float>
{
    public static readonly FloatJsonCodec Instance = new();

    public override void Write(Utf8JsonWriter writer, float value)
    {
        if (float.IsFinite(value)) writer.WriteNumberValue(value);
        else JsonNumbers.WriteDouble(writer, value);
    }

    public override float Read(ref Utf8JsonReader reader) => (float)JsonNumbers.ReadDouble(ref reader);

    public override bool IsDefault(float value) => BitConverter.SingleToInt32Bits(value) == 0;
}

/// <summary>Enum numbers: integers on output; integers (number or string) or value names (e.g. SPAN_KIND_SERVER) on input.</summary>
internal sealed class EnumJsonCodec(EnumDescriptor descriptor) : JsonValueCodec<int>
{
    public override void Write(Utf8JsonWriter writer, int value) => writer.WriteNumberValue(value);

    public override int Read(ref Utf8JsonReader reader)
    {
        int number;
        if (reader.TokenType == JsonTokenType.String)
        {
            var name = reader.GetString()!;
            var byName = descriptor.FindValueByName(name);
            if (byName is not null) number = byName.Number;
            else if (!int.TryParse(name, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out number))
                throw JsonTokens.Invalid(ref reader, $"\"{name}\" is not a value of enum {descriptor.Name}");
        }
        else if (reader.TokenType == JsonTokenType.Number)
        {
            // Unknown numbers are kept, as protobuf keeps unknown enum values.
            number = (int)JsonNumbers.ReadInt64(ref reader, int.MinValue, int.MaxValue, "enum number");
        }
        else throw JsonTokens.Expected(ref reader, $"an {descriptor.Name} number or name");
        return number;
    }

    public override bool IsDefault(int value) => value == 0;
}
