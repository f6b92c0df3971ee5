using System.Buffers.Binary;
using Google.Protobuf;

namespace OtelAi.Processors.TailSampling;

/// <summary>A 16-byte trace id as two integers: a cheap dictionary key that does not hold the ByteString.</summary>
internal readonly record struct TraceKey(ulong High, ulong Low)
{
    public static TraceKey From(ByteString traceId)
    {
        var bytes = traceId.Span;
        return bytes.Length == 16
            ? new(BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]))
            : FromShort(bytes);
    }

    private static TraceKey FromShort(ReadOnlySpan<byte> bytes)
    {
        Span<byte> padded = stackalloc byte[16];
        bytes[..Math.Min(16, bytes.Length)].CopyTo(padded);
        return new(BinaryPrimitives.ReadUInt64BigEndian(padded), BinaryPrimitives.ReadUInt64BigEndian(padded[8..]));
    }

    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, High);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], Low);
    }
}
