using System.Buffers;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Otlp.Proto.Logs.V1;
using OtelAi.Otlp.Proto.Trace.V1;
using OtelAi.TestSupport;

namespace OtelAi.Engine.Tests;

/// <summary>
/// The payload model: canonical requests travel undecoded, and whatever path a request takes (encoded or decoded,
/// joined, split) the bytes that come out are exactly what parsing the input and serializing it would give.
/// </summary>
public sealed class PayloadTests
{
    public static TheoryData<int> Seeds => [1, 2, 3, 4, 5, 6, 7, 8];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Every_generated_request_stays_encoded_with_the_counts_of_its_decoded_form(int seed)
    {
        var generator = new MessageGenerator(seed);
        Check(WithValidIds((ExportTraceServiceRequest)generator.Generate(ExportTraceServiceRequest.Descriptor)));
        Check((ExportMetricsServiceRequest)generator.Generate(ExportMetricsServiceRequest.Descriptor));
        Check(WithValidIds((ExportLogsServiceRequest)generator.Generate(ExportLogsServiceRequest.Descriptor)));

        static void Check<T>(T request) where T : class, IMessage<T>, new()
        {
            var bytes = request.ToByteArray();
            var payload = Payload<T>.TryFromWire(bytes);
            Assert.NotNull(payload);
            Assert.True(payload.IsEncoded);
            var signal = OtlpSignal<T>.Instance;
            Assert.Equal(signal.CountItems(request), payload.ItemCount);
            Assert.Equal(signal.ResourceCount(request), payload.ResourceCount);
            Assert.Equal(Payload<T>.FromMessage(request).MetricCount, payload.MetricCount);
            Assert.Equal(bytes, Written(payload));
            Assert.Equal(request, payload.Message);
        }
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void A_mutated_request_the_walker_accepts_parses_and_serializes_back_to_the_same_bytes(int seed)
    {
        // Bit flips, overwritten, dropped, inserted and repeated bytes, truncation: whatever the walker lets through
        // undecoded must be exactly what a parse-then-serialize gives, with the same counts.
        var random = new Random(seed);
        var generator = new MessageGenerator(seed);
        var accepted = 0;
        var sources = new (byte[] Bytes, Func<byte[], bool> Check)[]
        {
            (WithValidIds((ExportTraceServiceRequest)generator.Generate(ExportTraceServiceRequest.Descriptor)).ToByteArray(), RoundTrips<ExportTraceServiceRequest>),
            (generator.Generate(ExportMetricsServiceRequest.Descriptor).ToByteArray(), RoundTrips<ExportMetricsServiceRequest>),
            (WithValidIds((ExportLogsServiceRequest)generator.Generate(ExportLogsServiceRequest.Descriptor)).ToByteArray(), RoundTrips<ExportLogsServiceRequest>),
        };
        foreach (var (bytes, check) in sources)
            for (var i = 0; i < 400; i++)
                if (check(Mutate(bytes, random))) accepted++;
        // Some mutations keep the bytes canonical (a flipped bit inside a string or a fixed64): the check above ran on them.
        Assert.True(accepted > 0, "no mutation was accepted: the property was never exercised");
    }

    private static bool RoundTrips<T>(byte[] bytes) where T : class, IMessage<T>, new()
    {
        var payload = Payload<T>.TryFromWire(bytes);
        if (payload is null) return false;
        var parsed = OtlpSignal<T>.Instance.Parser.ParseFrom(bytes);
        Assert.Equal(bytes, parsed.ToByteArray());
        Assert.Equal(OtlpSignal<T>.Instance.CountItems(parsed), payload.ItemCount);
        Assert.Equal(OtlpSignal<T>.Instance.ResourceCount(parsed), payload.ResourceCount);
        Assert.Equal(0, OtlpSignal<T>.Instance.RemoveInvalid(parsed, out _));
        return true;
    }

    private static byte[] Mutate(byte[] bytes, Random random)
    {
        var list = bytes.ToList();
        var at = random.Next(list.Count);
        switch (random.Next(6))
        {
            case 0: list[at] ^= (byte)(1 << random.Next(8)); break;
            case 1: list[at] = (byte)random.Next(256); break;
            case 2: list.RemoveRange(at, list.Count - at); break;
            case 3: list.RemoveAt(at); break;
            case 4: list.Insert(at, (byte)random.Next(256)); break;
            default:
                var length = Math.Min(random.Next(1, 16), list.Count - at);
                list.InsertRange(at, list.GetRange(at, length));
                break;
        }
        return list.ToArray();
    }

    public static TheoryData<string> NonCanonicalSpans => new()
    {
        "unknown field",
        "fields out of order",
        "explicit default enum",
        "explicit empty string",
        "non-minimal varint",
        "singular field twice",
        "two members of one oneof",
        "packed field written unpacked",
        "trace id of 15 bytes",
        "all-zero span id",
        "missing span id",
    };

    [Theory]
    [MemberData(nameof(NonCanonicalSpans))]
    public void Bytes_a_parse_would_change_or_items_the_rules_refuse_take_the_decoding_path(string variant)
    {
        var request = SpanRequest(variant);
        Assert.Null(Payload<ExportTraceServiceRequest>.TryFromWire(request));

        var payload = Payload<ExportTraceServiceRequest>.Parse(request);
        Assert.False(payload.IsEncoded);
        Assert.Equal(ExportTraceServiceRequest.Parser.WithDiscardUnknownFields(true).ParseFrom(request).ToByteArray(), Written(payload));
    }

    [Fact]
    public void The_canonical_span_the_variants_start_from_stays_encoded()
    {
        Assert.NotNull(Payload<ExportTraceServiceRequest>.TryFromWire(SpanRequest("canonical")));
        // A oneof member is written even when it holds its default.
        Assert.NotNull(Payload<ExportTraceServiceRequest>.TryFromWire(SpanRequest("oneof member with its default")));
    }

    [Fact]
    public void Invalid_utf8_is_never_taken_as_canonical()
    {
        Assert.Null(Payload<ExportTraceServiceRequest>.TryFromWire(SpanRequest("invalid utf-8")));
    }

    public static TheoryData<int> SplitSizes => [1, 2, 3, 5, 7, 11, 100];

    [Theory]
    [MemberData(nameof(SplitSizes))]
    public void Joined_and_split_encoded_payloads_give_the_bytes_of_joined_and_split_messages(int maxItems)
    {
        Check(Enumerable.Range(1, 4).Select(i => SampleData.Traces(i + 2, $"svc-{i}", seed: i)).ToList());
        Check(Enumerable.Range(1, 4).Select(i => SampleData.Metrics(i * 3, $"svc-{i}")).ToList());
        Check(Enumerable.Range(1, 4).Select(i => SampleData.Logs(i + 3, $"svc-{i}")).ToList());

        void Check<T>(List<T> requests) where T : class, IMessage<T>, new()
        {
            var encoded = Payload<T>.Concat(requests.Select(r => Payload<T>.TryFromWire(r.ToByteArray())!).ToList());
            var decoded = Payload<T>.Concat(requests.Select(r => Payload<T>.FromMessage(r.Clone())).ToList());
            Assert.True(encoded.IsEncoded);
            Assert.False(decoded.IsEncoded);
            Assert.Equal(Written(decoded), Written(encoded));
            Assert.Equal(decoded.ItemCount, encoded.ItemCount);

            while (decoded.ItemCount > 0)
            {
                var decodedHead = decoded.SplitOff(maxItems);
                var encodedHead = encoded.SplitOff(maxItems);
                Assert.True(encodedHead.IsEncoded);
                Assert.Equal(Written(decodedHead), Written(encodedHead));
                Assert.Equal(decodedHead.ItemCount, encodedHead.ItemCount);
                Assert.Equal(decodedHead.ResourceCount, encodedHead.ResourceCount);
                Assert.Equal(Written(decoded), Written(encoded));
                Assert.Equal(decoded.ItemCount, encoded.ItemCount);
            }
        }
    }

    [Fact]
    public void Splitting_a_payload_that_was_read_cuts_what_readers_see_too()
    {
        var request = SampleData.Traces(6);
        var payload = Payload<ExportTraceServiceRequest>.TryFromWire(request.ToByteArray())!;
        Assert.Equal(6, OtlpSignal<ExportTraceServiceRequest>.Instance.CountItems(payload.Message));

        var head = payload.SplitOff(4);

        Assert.Equal(4, OtlpSignal<ExportTraceServiceRequest>.Instance.CountItems(head.Message));
        Assert.Equal(2, OtlpSignal<ExportTraceServiceRequest>.Instance.CountItems(payload.Message));
        Assert.Equal(2, payload.ItemCount);
    }

    [Fact]
    public void A_clone_shares_the_bytes_and_editing_it_leaves_the_original_as_it_came()
    {
        var request = SampleData.Traces(3);
        var original = Payload<ExportTraceServiceRequest>.TryFromWire(request.ToByteArray())!;
        var clone = original.Clone();
        Assert.True(clone.IsEncoded);

        clone.Edit().ResourceSpans[0].ScopeSpans[0].Spans[0].Name = "changed";

        Assert.Equal("changed", ExportTraceServiceRequest.Parser.ParseFrom(Written(clone)).ResourceSpans[0].ScopeSpans[0].Spans[0].Name);
        Assert.True(original.IsEncoded);
        Assert.Equal(request.ToByteArray(), Written(original));
    }

    [Fact]
    public void Reading_a_shared_payload_decodes_it_once_and_keeps_its_bytes()
    {
        var request = SampleData.Logs(5);
        var payload = Payload<ExportLogsServiceRequest>.TryFromWire(request.ToByteArray())!;
        var messages = new ExportLogsServiceRequest[8];
        Parallel.For(0, messages.Length, i => messages[i] = payload.Message);

        Assert.All(messages, m => Assert.Same(messages[0], m));
        Assert.Equal(request, messages[0]);
        Assert.True(payload.HasWire);
        Assert.False(payload.IsEncoded);
    }

    [Fact]
    public void Compressed_writing_streams_the_encoded_parts()
    {
        var parts = Enumerable.Range(1, 3).Select(i => SampleData.Traces(4, seed: i)).ToList();
        var payload = Payload<ExportTraceServiceRequest>.Concat(parts.Select(p => Payload<ExportTraceServiceRequest>.TryFromWire(p.ToByteArray())!).ToList());
        using var compressed = new OtelAi.Otlp.Grpc.PooledBufferWriter();
        payload.CompressTo(OtelAi.Otlp.Grpc.ContentCoding.Gzip, OtelAi.Otlp.Grpc.MessageCompression.DefaultLevel, compressed);
        using var plain = new OtelAi.Otlp.Grpc.PooledBufferWriter();
        OtelAi.Otlp.Grpc.MessageCompression.Decompress(new ReadOnlySequence<byte>(compressed.WrittenMemory), OtelAi.Otlp.Grpc.ContentCoding.Gzip, 1 << 20, plain);
        Assert.Equal(Written(payload), plain.WrittenSpan.ToArray());
    }

    private static byte[] Written<T>(Payload<T> payload) where T : class, IMessage<T>, new()
    {
        var writer = new ArrayBufferWriter<byte>();
        payload.WriteTo(writer);
        Assert.Equal(writer.WrittenCount, payload.CalculateSize());
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Gives every span and log record ids that pass the signal's rules (the generator picks random lengths).</summary>
    private static T WithValidIds<T>(T request) where T : IMessage
    {
        var random = new Random(7);
        ByteString Id(int length)
        {
            var bytes = new byte[length];
            random.NextBytes(bytes);
            bytes[0] |= 1;
            return ByteString.CopyFrom(bytes);
        }
        switch (request)
        {
            case ExportTraceServiceRequest traces:
                foreach (var span in traces.ResourceSpans.SelectMany(r => r.ScopeSpans).SelectMany(s => s.Spans))
                {
                    span.TraceId = Id(16);
                    span.SpanId = Id(8);
                    span.ParentSpanId = random.Next(2) == 0 ? ByteString.Empty : Id(8);
                }
                break;
            case ExportLogsServiceRequest logs:
                foreach (var record in logs.ResourceLogs.SelectMany(r => r.ScopeLogs).SelectMany(s => s.LogRecords))
                {
                    record.TraceId = random.Next(2) == 0 ? ByteString.Empty : Id(16);
                    record.SpanId = random.Next(2) == 0 ? ByteString.Empty : Id(8);
                }
                break;
        }
        return request;
    }

    /// <summary>One span, written field by field so that each variant can break exactly one rule of canonical form.</summary>
    private static byte[] SpanRequest(string variant)
    {
        var span = new MemoryStream();
        var o = new CodedOutputStream(span, leaveOpen: true);
        void Bytes(int field, byte[] value)
        {
            o.WriteTag(field, WireFormat.WireType.LengthDelimited);
            o.WriteBytes(ByteString.CopyFrom(value));
        }
        void Text(int field, string value)
        {
            o.WriteTag(field, WireFormat.WireType.LengthDelimited);
            o.WriteString(value);
        }
        void Varint(int field, ulong value)
        {
            o.WriteTag(field, WireFormat.WireType.Varint);
            o.WriteUInt64(value);
        }

        var traceId = Enumerable.Range(1, variant == "trace id of 15 bytes" ? 15 : 16).Select(i => (byte)i).ToArray();
        var spanId = variant == "all-zero span id" ? new byte[8] : Enumerable.Range(1, 8).Select(i => (byte)(i * 3)).ToArray();
        Bytes(Span.TraceIdFieldNumber, traceId);
        if (variant == "fields out of order") Text(Span.NameFieldNumber, "infer");
        if (variant != "missing span id") Bytes(Span.SpanIdFieldNumber, spanId);
        if (variant == "invalid utf-8") Bytes(Span.NameFieldNumber, [0x69, 0xC3, 0x28]);
        else if (variant == "explicit empty string") Text(Span.NameFieldNumber, "");
        else if (variant != "fields out of order") Text(Span.NameFieldNumber, "infer");
        if (variant == "singular field twice") Text(Span.NameFieldNumber, "again");
        if (variant == "explicit default enum") Varint(Span.KindFieldNumber, 0);
        else if (variant == "non-minimal varint")
        {
            o.WriteTag(Span.KindFieldNumber, WireFormat.WireType.Varint);
            o.WriteRawTag(0x82, 0x00); // 2 in two bytes
        }
        else Varint(Span.KindFieldNumber, 2);
        o.WriteTag(Span.StartTimeUnixNanoFieldNumber, WireFormat.WireType.Fixed64);
        o.WriteFixed64(1_000);
        o.WriteTag(Span.EndTimeUnixNanoFieldNumber, WireFormat.WireType.Fixed64);
        o.WriteFixed64(2_000);
        var value = variant switch
        {
            "two members of one oneof" => new byte[] { 0x0A, 0x01, (byte)'a', 0x18, 0x03 }, // string_value "a", int_value 3
            "oneof member with its default" => [0x0A, 0x00], // string_value ""
            _ => [0x0A, 0x01, (byte)'a'],
        };
        var attribute = Concat([0x0A, 0x01, (byte)'k'], Delimited(2, value)); // KeyValue { key = "k", value }
        Bytes(Span.AttributesFieldNumber, attribute);
        if (variant == "unknown field") Varint(99, 7);
        o.Flush();

        var spanBytes = span.ToArray();
        if (variant == "packed field written unpacked")
        {
            // A histogram point's bucket_counts (repeated fixed64, packed in proto3) written as two separate fields.
            var point = new MemoryStream();
            var p = new CodedOutputStream(point, leaveOpen: true);
            foreach (var count in new ulong[] { 3, 4 })
            {
                p.WriteTag(6, WireFormat.WireType.Fixed64);
                p.WriteFixed64(count);
            }
            p.Flush();
            var histogram = Delimited(1, point.ToArray()); // Histogram.data_points
            var metric = Concat([0x0A, 0x01, (byte)'h'], Delimited(9, histogram)); // Metric { name = "h", histogram }
            var metricsRequest = Delimited(1, Delimited(2, Delimited(2, metric)));
            Assert.Null(Payload<ExportMetricsServiceRequest>.TryFromWire(metricsRequest));
            Assert.Equal(ExportMetricsServiceRequest.Parser.ParseFrom(metricsRequest).ToByteArray(),
                Written(Payload<ExportMetricsServiceRequest>.Parse(metricsRequest)));
            // The span itself stays valid but carries a field a parse drops, so the traces case is checked as well.
            spanBytes = Concat(spanBytes, [0xA8, 0x06, 0x01]); // field 101, varint 1
        }
        return Delimited(1, Delimited(2, Delimited(2, spanBytes))); // request { resource_spans { scope_spans { spans } } }
    }

    private static byte[] Delimited(int field, byte[] content)
    {
        var stream = new MemoryStream();
        var o = new CodedOutputStream(stream, leaveOpen: true);
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteBytes(ByteString.CopyFrom(content));
        o.Flush();
        return stream.ToArray();
    }

    private static byte[] Concat(byte[] a, byte[] b) => [.. a, .. b];
}
