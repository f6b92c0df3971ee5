using OtelAi.Otlp;
using System.Buffers;
using System.IO.Compression;
using System.IO.Pipelines;
using Google.Protobuf;
using OtelAi.Engine.Consumers;
using OtelAi.Otlp.Grpc;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.TestSupport;

namespace OtelAi.OtlpReceiver.Tests;

public sealed class GrpcPrimitivesTests
{
    [Fact]
    public void StatusCodes_AreTheSeventeenWireValues()
    {
        var values = Enum.GetValues<GrpcStatusCode>().Select(c => (int)c).ToArray();
        Assert.Equal(Enumerable.Range(0, 17), values);
        Assert.Equal(8, (int)GrpcStatusCode.ResourceExhausted);
        Assert.Equal(14, (int)GrpcStatusCode.Unavailable);
        Assert.Equal(16, (int)GrpcStatusCode.Unauthenticated);
    }

    [Theory]
    [InlineData(nameof(GrpcStatusCode.OK), 200)]
    [InlineData(nameof(GrpcStatusCode.Unavailable), 503)]
    [InlineData(nameof(GrpcStatusCode.Cancelled), 503)]
    [InlineData(nameof(GrpcStatusCode.DeadlineExceeded), 503)]
    [InlineData(nameof(GrpcStatusCode.Aborted), 503)]
    [InlineData(nameof(GrpcStatusCode.OutOfRange), 503)]
    [InlineData(nameof(GrpcStatusCode.DataLoss), 503)]
    [InlineData(nameof(GrpcStatusCode.ResourceExhausted), 429)]
    [InlineData(nameof(GrpcStatusCode.InvalidArgument), 400)]
    [InlineData(nameof(GrpcStatusCode.Unauthenticated), 401)]
    [InlineData(nameof(GrpcStatusCode.PermissionDenied), 403)]
    [InlineData(nameof(GrpcStatusCode.Unimplemented), 404)]
    [InlineData(nameof(GrpcStatusCode.Internal), 500)]
    [InlineData(nameof(GrpcStatusCode.Unknown), 500)]
    // Internal enums travel as names: a public test method cannot take them as parameters.
    public void StatusMapsToHttp(string code, int http) => Assert.Equal(http, GrpcStatusMapping.ToHttpStatus(Enum.Parse<GrpcStatusCode>(code)));

    [Fact]
    public void RetryClassification_FollowsOtlp()
    {
        var retryable = new[] { GrpcStatusCode.Cancelled, GrpcStatusCode.DeadlineExceeded, GrpcStatusCode.Aborted,
            GrpcStatusCode.OutOfRange, GrpcStatusCode.Unavailable, GrpcStatusCode.DataLoss };
        foreach (var code in Enum.GetValues<GrpcStatusCode>().Where(c => c != GrpcStatusCode.ResourceExhausted))
            Assert.Equal(retryable.Contains(code), GrpcStatusMapping.IsRetryable(code, hasRetryInfo: false));
        Assert.False(GrpcStatusMapping.IsRetryable(GrpcStatusCode.ResourceExhausted, hasRetryInfo: false));
        Assert.True(GrpcStatusMapping.IsRetryable(GrpcStatusCode.ResourceExhausted, hasRetryInfo: true));
        Assert.Equal(new[] { 429, 502, 503, 504 }, Enumerable.Range(100, 500).Where(GrpcStatusMapping.IsRetryableHttpStatus));
    }

    [Fact]
    public void Framing_RoundTripsOverSegmentedSequences()
    {
        var request = SampleData.Traces(20);
        var writer = new ArrayBufferWriter<byte>();
        GrpcFraming.WriteMessage(writer, request);
        GrpcFraming.WriteFrame(writer, [1, 2, 3], compressed: true);
        var bytes = writer.WrittenSpan.ToArray();

        // Split into 7-byte segments so prefix and payload straddle segment borders.
        var sequence = Segmented(bytes, 7);
        Assert.Equal(GrpcFrameResult.Complete, GrpcFraming.TryReadFrame(ref sequence, 1 << 20, out var first, out var length));
        Assert.False(first.Compressed);
        Assert.Equal(request.CalculateSize(), length);
        Assert.Equal(request, ExportTraceServiceRequest.Parser.ParseFrom(first.Payload));
        Assert.Equal(GrpcFrameResult.Complete, GrpcFraming.TryReadFrame(ref sequence, 1 << 20, out var second, out _));
        Assert.True(second.Compressed);
        Assert.Equal(new byte[] { 1, 2, 3 }, second.Payload.ToArray());
        Assert.True(sequence.IsEmpty);

        var partial = new ReadOnlySequence<byte>(bytes, 0, 4);
        Assert.Equal(GrpcFrameResult.Incomplete, GrpcFraming.TryReadFrame(ref partial, 1 << 20, out _, out _));
        var headerOnly = new ReadOnlySequence<byte>(bytes, 0, 10);
        Assert.Equal(GrpcFrameResult.Incomplete, GrpcFraming.TryReadFrame(ref headerOnly, 1 << 20, out _, out _));
        var whole = new ReadOnlySequence<byte>(bytes);
        Assert.Equal(GrpcFrameResult.TooLarge, GrpcFraming.TryReadFrame(ref whole, 100, out _, out var declared));
        Assert.Equal(request.CalculateSize(), declared);
    }

    [Fact]
    public async Task PipeReader_ReadsFramesWrittenInDribbles_AndReportsEndTruncationAndSize()
    {
        var request = SampleData.Traces(5);
        var writer = new ArrayBufferWriter<byte>();
        GrpcFraming.WriteMessage(writer, request);
        var bytes = writer.WrittenSpan.ToArray();

        var pipe = new Pipe();
        var feeding = Task.Run(async () =>
        {
            for (var i = 0; i < bytes.Length; i += 3)
            {
                await pipe.Writer.WriteAsync(bytes.AsMemory(i, Math.Min(3, bytes.Length - i)));
                await Task.Yield();
            }
            await pipe.Writer.CompleteAsync();
        });
        var result = await GrpcFraming.ReadFrameAsync(pipe.Reader, 1 << 20, CancellationToken.None);
        Assert.Equal(GrpcReadStatus.Message, result.Status);
        Assert.Equal(request, ExportTraceServiceRequest.Parser.ParseFrom(result.Frame.Payload));
        pipe.Reader.AdvanceTo(result.Frame.Payload.End);
        await feeding;
        Assert.Equal(GrpcReadStatus.EndOfStream, (await GrpcFraming.ReadFrameAsync(pipe.Reader, 1 << 20, CancellationToken.None)).Status);

        var truncated = PipeReader.Create(new ReadOnlySequence<byte>(bytes, 0, bytes.Length - 1));
        Assert.Equal(GrpcReadStatus.Truncated, (await GrpcFraming.ReadFrameAsync(truncated, 1 << 20, CancellationToken.None)).Status);

        var tooLarge = PipeReader.Create(new ReadOnlySequence<byte>(bytes));
        var big = await GrpcFraming.ReadFrameAsync(tooLarge, 16, CancellationToken.None);
        Assert.Equal(GrpcReadStatus.TooLarge, big.Status);
        Assert.Equal(request.CalculateSize(), big.DeclaredLength);
    }

    [Fact]
    public void CompressedFrame_DecompressesToTheMessage()
    {
        var request = SampleData.Traces(50);
        // Behind another frame, so the length prefix filled in after compressing must land at the frame's own offset.
        using var writer = new PooledBufferWriter(64);
        GrpcFraming.WriteFrame(writer, [7, 7, 7], compressed: false);
        GrpcFraming.WriteCompressedMessage(writer, request);
        var sequence = new ReadOnlySequence<byte>(writer.WrittenSpan.ToArray());
        Assert.Equal(GrpcFrameResult.Complete, GrpcFraming.TryReadFrame(ref sequence, 1 << 20, out var first, out _));
        Assert.Equal([7, 7, 7], first.Payload.ToArray());
        Assert.Equal(GrpcFrameResult.Complete, GrpcFraming.TryReadFrame(ref sequence, 1 << 20, out var frame, out _));
        Assert.True(sequence.IsEmpty);
        Assert.True(frame.Compressed);
        using var plain = new PooledBufferWriter();
        MessageCompression.Decompress(frame.Payload, ContentCoding.Gzip, 1 << 20, plain);
        Assert.Equal(request, ExportTraceServiceRequest.Parser.ParseFrom(plain.WrittenSpan));
    }

    [Theory]
    [InlineData(nameof(ContentCoding.Gzip))]
    [InlineData(nameof(ContentCoding.Deflate))]
    public void Decompression_RoundTrips_StopsBombs_AndRejectsCorruptData(string codingName)
    {
        var coding = Enum.Parse<ContentCoding>(codingName);
        var data = new byte[100_000];
        new Random(3).NextBytes(data.AsSpan(0, 1000));
        var compressed = new ArrayBufferWriter<byte>();
        MessageCompression.Compress(data, coding, compressed);
        var input = Segmented(compressed.WrittenSpan.ToArray(), 100);

        using (var output = new PooledBufferWriter())
        {
            MessageCompression.Decompress(input, coding, data.Length, output);
            Assert.Equal(data, output.WrittenSpan.ToArray());
        }

        // 10 MB of zeros compress to ~10 KB; a 1 MB limit stops inflation early.
        var bomb = new ArrayBufferWriter<byte>();
        MessageCompression.Compress(new byte[10_000_000], coding, bomb);
        using (var output = new PooledBufferWriter())
        {
            var error = Assert.Throws<DecompressedSizeExceededException>(() =>
                MessageCompression.Decompress(new ReadOnlySequence<byte>(bomb.WrittenMemory), coding, 1_000_000, output));
            Assert.Equal(1_000_000, error.Limit);
            Assert.True(output.WrittenCount < 1_100_000);
        }

        using (var output = new PooledBufferWriter())
            Assert.Throws<InvalidDataException>(() =>
                MessageCompression.Decompress(new ReadOnlySequence<byte>("this is not compressed"u8.ToArray()), coding, 1 << 20, output));
    }

    [Theory]
    [InlineData(nameof(ContentCoding.Gzip))]
    [InlineData(nameof(ContentCoding.Deflate))]
    public void TruncatedData_IsRejected(string codingName)
    {
        var coding = Enum.Parse<ContentCoding>(codingName);
        var compressed = new ArrayBufferWriter<byte>();
        MessageCompression.Compress(SampleData.Traces(30).ToByteArray(), coding, compressed);
        var cut = compressed.WrittenMemory[..(compressed.WrittenCount / 2)];
        using var output = new PooledBufferWriter();
        Assert.ThrowsAny<InvalidDataException>(() =>
            MessageCompression.Decompress(new ReadOnlySequence<byte>(cut), coding, 1 << 20, output));
    }

    [Theory]
    [InlineData("gzip", true, nameof(ContentCoding.Gzip))]
    [InlineData("GZIP", true, nameof(ContentCoding.Gzip))]
    [InlineData("deflate", true, nameof(ContentCoding.Deflate))]
    [InlineData("identity", true, nameof(ContentCoding.Identity))]
    [InlineData(null, true, nameof(ContentCoding.Identity))]
    [InlineData("zstd", false, nameof(ContentCoding.Identity))]
    [InlineData("snappy", false, nameof(ContentCoding.Identity))]
    public void CodingNames(string? name, bool known, string expected)
    {
        Assert.Equal(known, MessageCompression.TryParse(name, out var coding));
        Assert.Equal(Enum.Parse<ContentCoding>(expected), coding);
    }

    [Theory]
    [InlineData("10S", 10_000)]
    [InlineData("500m", 500)]
    [InlineData("2M", 120_000)]
    [InlineData("1H", 3_600_000)]
    [InlineData("1500u", 1.5)]
    [InlineData("2000000n", 2)]
    [InlineData("99999999m", 99_999_999)]
    public void Timeout_Parses(string text, double milliseconds)
    {
        Assert.True(GrpcTimeout.TryParse(text, out var timeout));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), timeout);
    }

    [Theory]
    [InlineData("")]
    [InlineData("S")]
    [InlineData("10")]
    [InlineData("10s")]
    [InlineData("123456789S")]
    [InlineData("-5S")]
    [InlineData("1.5S")]
    public void Timeout_RejectsMalformed(string text) => Assert.False(GrpcTimeout.TryParse(text, out _));

    [Fact]
    public void Timeout_FormatsWithinEightDigitsAndRoundTrips()
    {
        foreach (var timeout in new[] { TimeSpan.FromMilliseconds(5), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30),
                     TimeSpan.FromMinutes(10), TimeSpan.FromDays(3), TimeSpan.FromTicks(1234567) })
        {
            var text = GrpcTimeout.Format(timeout);
            Assert.InRange(text.Length, 2, 9);
            Assert.True(GrpcTimeout.TryParse(text, out var parsed));
            Assert.True(parsed >= timeout && parsed - timeout < TimeSpan.FromMilliseconds(timeout.TotalMilliseconds / 1000 + 1), $"{timeout} → {text}");
        }
        Assert.Equal("5000000n", GrpcTimeout.Format(TimeSpan.FromMilliseconds(5)));
        Assert.Equal("5000000u", GrpcTimeout.Format(TimeSpan.FromSeconds(5)));
        Assert.Equal("99999999H", GrpcTimeout.Format(TimeSpan.MaxValue));
    }

    [Theory]
    [InlineData("plain ascii text", "plain ascii text")]
    [InlineData("50% off", "50%25 off")]
    [InlineData("line\nbreak", "line%0Abreak")]
    [InlineData("span \u00e9t\u00e9 \u2713", "span %C3%A9t%C3%A9 %E2%9C%93")]
    public void GrpcMessage_PercentEncoding(string message, string encoded)
    {
        Assert.Equal(encoded, GrpcMessageEncoding.Encode(message));
        Assert.Equal(message, GrpcMessageEncoding.Decode(encoded));
    }

    [Fact]
    public void GrpcMessage_DecodeKeepsMalformedEscapes() =>
        Assert.Equal("100%zz and %4", GrpcMessageEncoding.Decode("100%zz and %4"));

    [Fact]
    public void StatusDetails_CarryRetryInfo()
    {
        var status = new GrpcStatus(GrpcStatusCode.Unavailable, "queue full", TimeSpan.FromSeconds(7));
        var bin = status.EncodeDetails();
        Assert.NotNull(bin);
        Assert.DoesNotContain('=', bin);

        var proto = OtelAi.Otlp.Proto.Rpc.Status.Parser.ParseFrom(Convert.FromBase64String(Pad(bin!)));
        Assert.Equal(14, proto.Code);
        Assert.Equal("type.googleapis.com/google.rpc.RetryInfo", Assert.Single(proto.Details).TypeUrl);

        var decoded = GrpcStatus.FromTrailers(GrpcStatusCode.Unavailable, GrpcMessageEncoding.Encode("queue full"), bin);
        Assert.Equal(status, decoded);
        Assert.True(decoded.IsRetryable);
        Assert.Null(new GrpcStatus(GrpcStatusCode.InvalidArgument, "bad").EncodeDetails());
        Assert.Null(GrpcStatus.FromTrailers(GrpcStatusCode.Unavailable, null, "!!not base64!!").RetryDelay);
    }

    [Fact]
    public void Status_MapsPipelineExceptionsBothWays()
    {
        Assert.Equal(new GrpcStatus(GrpcStatusCode.ResourceExhausted, "mem", TimeSpan.FromSeconds(2)),
            GrpcStatus.FromException(new RetryableDataException("mem", TimeSpan.FromSeconds(2), resourceExhausted: true)));
        Assert.Equal(GrpcStatusCode.Unavailable, GrpcStatus.FromException(new RetryableDataException("down")).Code);
        Assert.Equal(GrpcStatusCode.InvalidArgument, GrpcStatus.FromException(new PermanentDataException("bad")).Code);
        Assert.Equal(GrpcStatusCode.DeadlineExceeded, GrpcStatus.FromException(new OperationCanceledException(), deadlinePassed: true).Code);
        Assert.Equal(GrpcStatusCode.Unknown, GrpcStatus.FromException(new InvalidOperationException("x")).Code);

        var retry = Assert.IsType<RetryableDataException>(new GrpcStatus(GrpcStatusCode.ResourceExhausted, "slow", TimeSpan.FromSeconds(3)).ToDataException("export"));
        Assert.True(retry.ResourceExhausted);
        Assert.Equal(TimeSpan.FromSeconds(3), retry.RetryAfter);
        Assert.IsType<PermanentDataException>(new GrpcStatus(GrpcStatusCode.ResourceExhausted, "no retry info").ToDataException("export"));
        Assert.IsType<PermanentDataException>(new GrpcStatus(GrpcStatusCode.InvalidArgument).ToDataException("export"));
        Assert.IsType<RetryableDataException>(new GrpcStatus(GrpcStatusCode.DeadlineExceeded).ToDataException("export"));
    }

    private static string Pad(string base64) => base64.PadRight((base64.Length + 3) / 4 * 4, '=');

    internal static ReadOnlySequence<byte> Segmented(byte[] bytes, int segmentSize)
    {
        Segment? first = null, last = null;
        for (var i = 0; i < bytes.Length; i += segmentSize)
        {
            var chunk = bytes.AsMemory(i, Math.Min(segmentSize, bytes.Length - i));
            if (first is null) first = last = new Segment(chunk, 0);
            else last = last!.Append(chunk);
        }
        return first is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
