using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text;
using Google.Protobuf;

namespace OtelAi.Otlp.Protobuf;

/// <summary>
/// Protobuf wire-format primitives over one span, with length prefixes and string byte counts read in order from a
/// <see cref="SizeCache"/> instead of being recomputed. Encodings match Google.Protobuf's CodedOutputStream.
/// </summary>
internal ref struct ProtoWriter
{
    private readonly Span<byte> _buffer;
    private readonly ReadOnlySpan<int> _sizes;
    private int _position;
    private int _next;

    public ProtoWriter(Span<byte> buffer, ReadOnlySpan<int> sizes)
    {
        _buffer = buffer;
        _sizes = sizes;
    }

    public readonly int Position => _position;

    public readonly int SizesRead => _next;

    /// <summary>Bytes of a varint holding <paramref name="value"/> (1 to 10).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int VarintSize(ulong value) => (BitOperations.Log2(value | 1) * 9 + 73) >> 6;

    /// <summary>Bytes of an int32/enum field value: negatives are sign-extended to ten bytes, as protobuf requires.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Int32Size(int value) => value >= 0 ? VarintSize((uint)value) : 10;

    /// <summary>Bytes of a length-delimited payload of <paramref name="length"/> bytes, prefix included.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Delimited(int length) => VarintSize((uint)length) + length;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ZigZag(int value) => (value << 1) ^ (value >> 31);

    /// <summary>A one-byte tag (field numbers 1-15).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Tag(byte tag) => _buffer[_position++] = tag;

    /// <summary>A two-byte tag (field numbers 16-2047).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Tag(byte first, byte second)
    {
        _buffer[_position++] = first;
        _buffer[_position++] = second;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Varint(ulong value)
    {
        while (value >= 0x80)
        {
            _buffer[_position++] = (byte)(value | 0x80);
            value >>= 7;
        }
        _buffer[_position++] = (byte)value;
    }

    public void Int32(int value) => Varint((ulong)(long)value);

    public void Bool(bool value) => _buffer[_position++] = value ? (byte)1 : (byte)0;

    public void Fixed32(uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer[_position..], value);
        _position += 4;
    }

    public void Fixed64(ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(_buffer[_position..], value);
        _position += 8;
    }

    public void Double(double value)
    {
        BinaryPrimitives.WriteDoubleLittleEndian(_buffer[_position..], value);
        _position += 8;
    }

    /// <summary>The next recorded size as a length prefix: the start of a nested message or packed field.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Length() => Varint((uint)_sizes[_next++]);

    /// <summary>A string, its UTF-8 byte count taken from the cache.</summary>
    public void String(string value)
    {
        var length = _sizes[_next++];
        Varint((uint)length);
        var destination = _buffer.Slice(_position, length);
        // As many bytes as chars means all ASCII (anything else takes two or more bytes per char): a plain narrowing
        // copy, cheaper than the general encoder on short attribute strings.
        var written = length == value.Length && System.Text.Ascii.FromUtf16(value, destination, out var copied) == System.Buffers.OperationStatus.Done
            ? copied
            : Encoding.UTF8.GetBytes(value, destination);
        // A string changed since it was measured would leave the length prefix wrong: refuse rather than corrupt.
        if (written != length) throw new InvalidOperationException(OtlpProtobuf.ChangedSinceMeasure);
        _position += length;
    }

    public void Bytes(ByteString value)
    {
        var span = value.Span;
        Varint((uint)span.Length);
        span.CopyTo(_buffer[_position..]);
        _position += span.Length;
    }

    // Proto3 fields with implicit presence, one-byte tag: nothing is written for the default value (zero, empty).
    // Doubles compare numerically, as Google.Protobuf's generated code does: -0.0 is omitted like 0.0, NaN is written.

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Fixed64Field(byte tag, ulong value)
    {
        if (value == 0) return;
        Tag(tag);
        Fixed64(value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Fixed32Field(byte tag, uint value)
    {
        if (value == 0) return;
        Tag(tag);
        Fixed32(value);
    }

    /// <summary>A fixed32 field with a two-byte tag (field numbers 16-2047).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Fixed32Field(byte first, byte second, uint value)
    {
        if (value == 0) return;
        Tag(first, second);
        Fixed32(value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void DoubleField(byte tag, double value)
    {
        if (value == 0) return;
        Tag(tag);
        Double(value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void UInt32Field(byte tag, uint value)
    {
        if (value == 0) return;
        Tag(tag);
        Varint(value);
    }

    /// <summary>An int32 or enum field: negatives take ten bytes (<see cref="Int32"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void EnumField(byte tag, int value)
    {
        if (value == 0) return;
        Tag(tag);
        Int32(value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SInt32Field(byte tag, int value)
    {
        if (value == 0) return;
        Tag(tag);
        Varint((uint)ZigZag(value));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void BoolField(byte tag, bool value)
    {
        if (!value) return;
        Tag(tag);
        Bool(true);
    }

    /// <summary>A string field; its byte count is taken from the cache only when it is written (non-empty), as measured.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void StringField(byte tag, string value)
    {
        if (value.Length == 0) return;
        Tag(tag);
        String(value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void BytesField(byte tag, ByteString value)
    {
        if (value.Length == 0) return;
        Tag(tag);
        Bytes(value);
    }

    // Fields with explicit presence (proto3 optional, oneof members): written whenever present, even at the default.

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void OptionalDoubleField(byte tag, bool present, double value)
    {
        if (!present) return;
        Tag(tag);
        Double(value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void OptionalFixed64Field(byte tag, bool present, ulong value)
    {
        if (!present) return;
        Tag(tag);
        Fixed64(value);
    }
}
