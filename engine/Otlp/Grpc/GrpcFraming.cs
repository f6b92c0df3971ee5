using OtelAi.Otlp.Protobuf;
using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Google.Protobuf;
using OtelAi.Otlp;

namespace OtelAi.Otlp.Grpc;

/// <summary>What <see cref="GrpcFraming.TryReadFrame"/> found at the start of a buffer.</summary>
internal enum GrpcFrameResult
{
    /// <summary>A whole frame was read.</summary>
    Complete,

    /// <summary>More bytes are needed.</summary>
    Incomplete,

    /// <summary>The frame's declared length exceeds the limit; its payload was not buffered.</summary>
    TooLarge,
}

/// <summary>One length-prefixed message: the compressed flag and the payload bytes (a slice of the input buffer).</summary>
internal readonly record struct GrpcFrame(bool Compressed, ReadOnlySequence<byte> Payload);

/// <summary>
/// gRPC message framing: each message is a 1-byte compressed flag, a 4-byte big-endian length and the payload.
/// Readers slice the input without copying; writers put the prefix and the payload into the caller's buffer.
/// </summary>
internal static class GrpcFraming
{
    public const int PrefixLength = 5;

    /// <summary>
    /// Reads one frame from the start of <paramref name="buffer"/>. On <see cref="GrpcFrameResult.Complete"/>,
    /// <paramref name="buffer"/> is advanced past the frame. <paramref name="declaredLength"/> is set once the prefix is complete.
    /// </summary>
    public static GrpcFrameResult TryReadFrame(ref ReadOnlySequence<byte> buffer, int maxMessageSize, out GrpcFrame frame, out long declaredLength)
    {
        frame = default;
        declaredLength = -1;
        if (buffer.Length < PrefixLength) return GrpcFrameResult.Incomplete;

        Span<byte> prefix = stackalloc byte[PrefixLength];
        buffer.Slice(0, PrefixLength).CopyTo(prefix);
        declaredLength = BinaryPrimitives.ReadUInt32BigEndian(prefix[1..]);
        if (declaredLength > maxMessageSize) return GrpcFrameResult.TooLarge;
        if (buffer.Length < PrefixLength + declaredLength) return GrpcFrameResult.Incomplete;

        frame = new GrpcFrame(prefix[0] != 0, buffer.Slice(PrefixLength, declaredLength));
        buffer = buffer.Slice(PrefixLength + declaredLength);
        return GrpcFrameResult.Complete;
    }

    /// <summary>
    /// Reads the next frame from a request or response body. On <see cref="GrpcReadStatus.Message"/> the payload stays
    /// in the pipe's buffer: the caller must call <c>reader.AdvanceTo(result.Frame.Payload.End)</c> once it is done with it.
    /// Other outcomes have already advanced the reader.
    /// </summary>
    /// <param name="endStalls">Request bodies: a frame that gets no new byte for <see cref="Hosting.StallGuard.Timeout"/> ends as <see cref="GrpcReadStatus.Stalled"/>.</param>
    /// <param name="unfinished">Request bodies: what an incomplete frame holds in the pipe counts against this budget; past it, <see cref="GrpcReadStatus.OverBudget"/>.</param>
    public static async ValueTask<GrpcReadResult> ReadFrameAsync(PipeReader reader, int maxMessageSize, CancellationToken cancellationToken,
        bool endStalls = false, Hosting.UnfinishedBodyBudget? unfinished = null)
    {
        var minimum = PrefixLength;
        Hosting.StallGuard? guard = null;
        long held = 0;
        try
        {
            while (true)
            {
                ReadResult read;
                try
                {
                    read = guard is null ? await reader.ReadAtLeastAsync(minimum, cancellationToken) : await reader.ReadAsync(guard.Token);
                }
                catch (OperationCanceledException) when (guard?.Stalled == true)
                {
                    return new GrpcReadResult(GrpcReadStatus.Stalled, default, -1);
                }
                if (Examine(reader, read, maxMessageSize, ref minimum) is { } done) return done;
                if (unfinished is not null)
                {
                    // The partial frame stays in the pipe (the stream's flow-control window) until the rest arrives.
                    if (!unfinished.TryHold(read.Buffer.Length - held)) return new GrpcReadResult(GrpcReadStatus.OverBudget, default, -1);
                    held = read.Buffer.Length;
                }
                if (endStalls)
                {
                    // Incomplete after a read: from now on, bytes must keep coming.
                    if (guard is null) guard = new Hosting.StallGuard(cancellationToken);
                    else guard.Progress();
                }
            }
        }
        finally
        {
            unfinished?.Release(held);
            guard?.Dispose();
        }
    }

    /// <summary>One read's verdict: a result to return, or null to read on (the reader examined everything; <paramref name="minimum"/> updated).</summary>
    private static GrpcReadResult? Examine(PipeReader reader, ReadResult read, int maxMessageSize, ref int minimum)
    {
        var buffer = read.Buffer;
        var outcome = TryReadFrame(ref buffer, maxMessageSize, out var frame, out var declared);
        switch (outcome)
        {
            case GrpcFrameResult.Complete:
                return new GrpcReadResult(GrpcReadStatus.Message, frame, declared) { Buffered = read.Buffer.Length };
            case GrpcFrameResult.TooLarge:
                reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
                return new GrpcReadResult(GrpcReadStatus.TooLarge, default, declared);
        }

        if (read.IsCompleted || read.IsCanceled)
        {
            var empty = read.Buffer.IsEmpty;
            reader.AdvanceTo(read.Buffer.End);
            return new GrpcReadResult(empty ? GrpcReadStatus.EndOfStream : GrpcReadStatus.Truncated, default, declared);
        }

        // Examined everything: the next read waits for the rest of the frame in one go.
        reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        minimum = declared < 0 ? PrefixLength : checked(PrefixLength + (int)declared);
        return null;
    }

    /// <summary>Writes prefix and payload.</summary>
    public static void WriteFrame(IBufferWriter<byte> writer, ReadOnlySpan<byte> payload, bool compressed)
    {
        var prefix = writer.GetSpan(PrefixLength);
        prefix[0] = compressed ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt32BigEndian(prefix[1..], (uint)payload.Length);
        writer.Advance(PrefixLength);
        writer.Write(payload);
    }

    /// <summary>Writes an uncompressed frame holding <paramref name="message"/>, serialised straight into the writer.</summary>
    public static void WriteMessage(IBufferWriter<byte> writer, IMessage message)
    {
        using var measured = OtlpProtobuf.Measure(message);
        WriteMessage(writer, measured);
    }

    /// <summary>Writes an uncompressed frame holding a message already measured (by a caller that needed its size too).</summary>
    public static void WriteMessage(IBufferWriter<byte> writer, in MeasuredMessage message)
    {
        // One contiguous span: some writers (Kestrel's) reject the zero-length Advance a streaming serialiser may issue first.
        var size = message.Size;
        var span = writer.GetSpan(PrefixLength + size);
        span[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)size);
        message.WriteTo(span.Slice(PrefixLength, size));
        writer.Advance(PrefixLength + size);
    }

    /// <summary>
    /// Writes a frame holding <paramref name="payload"/>, gzip-compressed at <paramref name="gzipLevel"/> when one is
    /// given: encoded bytes are copied (or compressed) as they are, a decoded request is measured once and serialized.
    /// </summary>
    public static void WritePayload<T>(PooledBufferWriter writer, Payload<T> payload, int? gzipLevel)
        where T : class, IMessage<T>, new()
    {
        var prefixAt = ReservePrefix(writer);
        if (gzipLevel is { } level) payload.CompressTo(ContentCoding.Gzip, level, writer);
        else payload.WriteTo(writer);
        FillPrefix(writer, prefixAt, compressed: gzipLevel is not null);
    }

    /// <summary>
    /// Writes a gzip-compressed frame holding <paramref name="message"/>: serialised once into a pooled buffer and
    /// compressed straight into <paramref name="writer"/> behind a reserved prefix, no copy of the compressed bytes.
    /// </summary>
    public static void WriteCompressedMessage(PooledBufferWriter writer, IMessage message)
    {
        using var measured = OtlpProtobuf.Measure(message);
        using var plain = new PooledBufferWriter(measured.Size);
        measured.WriteTo(plain);
        var prefixAt = ReservePrefix(writer);
        MessageCompression.Compress(plain.WrittenSpan, ContentCoding.Gzip, writer);
        FillPrefix(writer, prefixAt, compressed: true);
    }

    // A frame whose length is known only once its content is written: the prefix is reserved, then filled in.
    private static int ReservePrefix(PooledBufferWriter writer)
    {
        var at = writer.WrittenCount;
        writer.GetSpan(PrefixLength);
        writer.Advance(PrefixLength);
        return at;
    }

    private static void FillPrefix(PooledBufferWriter writer, int prefixAt, bool compressed)
    {
        Span<byte> prefix = stackalloc byte[PrefixLength];
        prefix[0] = compressed ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt32BigEndian(prefix[1..], (uint)(writer.WrittenCount - prefixAt - PrefixLength));
        writer.Overwrite(prefixAt, prefix);
    }
}

internal enum GrpcReadStatus
{
    /// <summary>A frame was read; advance the reader past it after use.</summary>
    Message,

    /// <summary>The body ended cleanly between frames.</summary>
    EndOfStream,

    /// <summary>The body ended inside a frame.</summary>
    Truncated,

    /// <summary>The declared length exceeds the limit (<see cref="GrpcReadResult.DeclaredLength"/> says how large).</summary>
    TooLarge,

    /// <summary>A request body sent nothing for <see cref="Hosting.StallGuard.Timeout"/> inside a frame.</summary>
    Stalled,

    /// <summary>Waiting for the rest of the frame would pass the listener's unfinished-body budget.</summary>
    OverBudget,
}

internal readonly record struct GrpcReadResult(GrpcReadStatus Status, GrpcFrame Frame, long DeclaredLength)
{
    /// <summary>Bytes the pipe held when the frame was read (the frame and whatever followed it).</summary>
    public long Buffered { get; init; }
}
