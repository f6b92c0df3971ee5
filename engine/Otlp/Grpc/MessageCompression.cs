using System.Buffers;
using System.IO.Compression;

namespace OtelAi.Otlp.Grpc;

/// <summary>Body/message codings we serve: gRPC uses gzip, OTLP/HTTP gzip and deflate (zlib format, as HTTP defines it).</summary>
internal enum ContentCoding
{
    Identity,
    Gzip,
    Deflate,
}

/// <summary>The decompressed size would exceed the allowed maximum (a decompression bomb or simply too much data).</summary>
internal sealed class DecompressedSizeExceededException(long limit)
    : Exception($"decompressed size exceeds the limit of {limit} bytes")
{
    public long Limit { get; } = limit;
}

/// <summary>
/// Whole-message compression over pooled buffers. Decompression stops as soon as the output would exceed the limit,
/// so a small bomb never inflates into memory.
/// </summary>
internal static class MessageCompression
{
    /// <summary>Parses a coding name (grpc-encoding / Content-Encoding, case-insensitive); empty or missing is identity.</summary>
    public static bool TryParse(string? name, out ContentCoding coding)
    {
        coding = ContentCoding.Identity;
        if (string.IsNullOrWhiteSpace(name)) return true;
        var trimmed = name.Trim();
        if (trimmed.Equals("identity", StringComparison.OrdinalIgnoreCase)) return true;
        if (trimmed.Equals("gzip", StringComparison.OrdinalIgnoreCase) || trimmed.Equals("x-gzip", StringComparison.OrdinalIgnoreCase))
        {
            coding = ContentCoding.Gzip;
            return true;
        }
        if (trimmed.Equals("deflate", StringComparison.OrdinalIgnoreCase))
        {
            coding = ContentCoding.Deflate;
            return true;
        }
        return false;
    }

    /// <summary>zlib's default level (what <c>-1</c> means), which grpc-go's gzip and otelcol's HTTP clients use.</summary>
    public const int DefaultLevel = 6;

    /// <summary>zlib's Huffman-only level (<c>-2</c>): no string matching, the cheapest compression that still compresses.</summary>
    public const int HuffmanOnly = -2;

    /// <param name="level">zlib level: 1 (fastest) to 9 (smallest), -1 for the default (6), -2 for Huffman coding only.</param>
    public static void Compress(ReadOnlySpan<byte> input, ContentCoding coding, IBufferWriter<byte> output, int level = DefaultLevel)
    {
        using var sink = new BufferWriterStream(output);
        using (var compressor = CreateCompressor(sink, coding, level))
            compressor.Write(input);
    }

    /// <summary>Compresses the concatenation of <paramref name="parts"/> as one stream (no joined copy of the input).</summary>
    public static void Compress(ReadOnlyMemory<byte>[] parts, ContentCoding coding, IBufferWriter<byte> output, int level = DefaultLevel)
    {
        using var sink = new BufferWriterStream(output);
        using (var compressor = CreateCompressor(sink, coding, level))
            foreach (var part in parts) compressor.Write(part.Span);
    }

    private static Stream CreateCompressor(Stream inner, ContentCoding coding, int level)
    {
        var options = level switch
        {
            HuffmanOnly => new ZLibCompressionOptions { CompressionLevel = DefaultLevel, CompressionStrategy = ZLibCompressionStrategy.HuffmanOnly },
            -1 => new ZLibCompressionOptions { CompressionLevel = DefaultLevel },
            >= 1 and <= 9 => new ZLibCompressionOptions { CompressionLevel = level },
            _ => throw new ArgumentOutOfRangeException(nameof(level), level, "zlib levels are 1 to 9, -1 (default) and -2 (Huffman only)"),
        };
        return coding switch
        {
            ContentCoding.Gzip => new GZipStream(inner, options, leaveOpen: true),
            ContentCoding.Deflate => new ZLibStream(inner, options, leaveOpen: true),
            _ => throw new ArgumentOutOfRangeException(nameof(coding)),
        };
    }

    /// <summary>
    /// Decompresses <paramref name="input"/> into <paramref name="output"/>.
    /// Throws <see cref="DecompressedSizeExceededException"/> past <paramref name="maxSize"/> bytes and
    /// <see cref="InvalidDataException"/> for corrupt or truncated data.
    /// </summary>
    public static void Decompress(ReadOnlySequence<byte> input, ContentCoding coding, long maxSize, PooledBufferWriter output)
    {
        if (coding == ContentCoding.Identity) throw new ArgumentException("identity needs no decompression", nameof(coding));
        using var source = new SequenceReadStream(input);
        using var decompressor = CreateDecompressor(source, coding);
        var start = output.WrittenCount;
        while (true)
        {
            var span = output.GetSpan(16 * 1024);
            var read = decompressor.Read(span);
            if (read == 0) break;
            output.Advance(read);
            if (output.WrittenCount - start > maxSize) throw new DecompressedSizeExceededException(maxSize);
        }
        // GZipStream and ZLibStream end quietly on truncated input; the trailers tell whether the stream was whole.
        if (!TrailerMatches(input, coding, output.WrittenSpan[start..]))
            throw new InvalidDataException($"{coding.ToString().ToLowerInvariant()} data is truncated or corrupt");
    }

    // gzip ends with the uncompressed size mod 2^32 of its last member (at most the total when several members are
    // concatenated); zlib ends with the big-endian Adler-32 of the whole output.
    private static bool TrailerMatches(ReadOnlySequence<byte> input, ContentCoding coding, ReadOnlySpan<byte> produced)
    {
        if (input.Length < 4) return false;
        Span<byte> trailer = stackalloc byte[4];
        input.Slice(input.Length - 4).CopyTo(trailer);
        if (coding == ContentCoding.Gzip)
            return System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(trailer) <= (ulong)produced.Length;
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(trailer) == Adler32(produced);
    }

    private static uint Adler32(ReadOnlySpan<byte> data)
    {
        const uint Mod = 65521;
        uint a = 1, b = 0;
        while (data.Length > 0)
        {
            // 5552 bytes is the largest run whose sums cannot overflow 32 bits before the modulo.
            var chunk = data[..Math.Min(5552, data.Length)];
            foreach (var x in chunk)
            {
                a += x;
                b += a;
            }
            a %= Mod;
            b %= Mod;
            data = data[chunk.Length..];
        }
        return b << 16 | a;
    }

    private static Stream CreateDecompressor(Stream inner, ContentCoding coding) => coding switch
    {
        ContentCoding.Gzip => new GZipStream(inner, CompressionMode.Decompress, leaveOpen: true),
        ContentCoding.Deflate => new ZLibStream(inner, CompressionMode.Decompress, leaveOpen: true),
        _ => throw new ArgumentOutOfRangeException(nameof(coding)),
    };

    /// <summary>Read-only stream over a ReadOnlySequence (no copy of the input).</summary>
    private sealed class SequenceReadStream(ReadOnlySequence<byte> sequence) : Stream
    {
        private ReadOnlySequence<byte> _remaining = sequence;
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => _position + _remaining.Length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(Span<byte> buffer)
        {
            var n = (int)Math.Min(buffer.Length, _remaining.Length);
            _remaining.Slice(0, n).CopyTo(buffer);
            _remaining = _remaining.Slice(n);
            _position += n;
            return n;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>Write-only stream into an IBufferWriter.</summary>
    private sealed class BufferWriterStream(IBufferWriter<byte> writer) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(ReadOnlySpan<byte> buffer) => writer.Write(buffer);
        public override void Write(byte[] buffer, int offset, int count) => writer.Write(buffer.AsSpan(offset, count));
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
