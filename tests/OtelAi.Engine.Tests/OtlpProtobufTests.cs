using OtelAi.Otlp.Protobuf;
using System.Buffers;
using System.Collections;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Logs.V1;
using OtelAi.Otlp.Proto.Metrics.V1;
using OtelAi.Otlp.Proto.Trace.V1;
using OtelAi.TestSupport;
using Xunit;

namespace OtelAi.Engine.Tests;

/// <summary>
/// OtlpProtobuf must produce exactly Google.Protobuf's bytes. The generator fills every field of every message
/// reachable from the export requests through reflection, so a field added to the .proto files is filled too and
/// the byte comparison fails until the serializer writes it; a coverage test proves the generator reached every field.
/// </summary>
public sealed class OtlpProtobufTests
{
    private static readonly MessageDescriptor[] Requests =
    [
        ExportTraceServiceRequest.Descriptor,
        ExportMetricsServiceRequest.Descriptor,
        ExportLogsServiceRequest.Descriptor,
    ];

    public static TheoryData<int> Seeds => [1, 2, 3, 4, 5, 6, 7, 8];

    [Fact]
    public void SampleDataIsByteIdenticalToGoogleProtobuf()
    {
        AssertIdentical(SampleData.Traces(50));
        AssertIdentical(SampleData.Metrics(50));
        AssertIdentical(SampleData.Logs(50));
    }

    [Fact]
    public void EmptyRequestsAndEmptyNestedMessagesAreByteIdentical()
    {
        AssertIdentical(new ExportTraceServiceRequest());
        AssertIdentical(new ExportMetricsServiceRequest());
        AssertIdentical(new ExportLogsServiceRequest());
        Assert.Equal(0, OtlpProtobuf.CalculateSize(new ExportTraceServiceRequest()));

        // Present but empty messages still get a tag and a zero length.
        AssertIdentical(new ExportTraceServiceRequest { ResourceSpans = { new ResourceSpans { ScopeSpans = { new ScopeSpans { Spans = { new Span() } } } } } });
        AssertIdentical(new ExportMetricsServiceRequest
        {
            ResourceMetrics = { new ResourceMetrics { Resource = new(), ScopeMetrics = { new ScopeMetrics { Scope = new(), Metrics = { new Metric(), new Metric { Gauge = new Gauge() }, new Metric { Summary = new Summary() } } } } } },
        });
        AssertIdentical(new ExportLogsServiceRequest
        {
            ResourceLogs = { new ResourceLogs { ScopeLogs = { new ScopeLogs { LogRecords = { new LogRecord { Body = new AnyValue() }, new LogRecord { Body = new AnyValue { StringValue = "" } } } } } } },
        });
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void EveryFieldFilledIsByteIdenticalAndRoundTrips(int seed)
    {
        var generator = new MessageGenerator(seed);
        foreach (var descriptor in Requests)
        {
            var request = generator.Generate(descriptor);
            AssertIdentical(request);
            var parsed = descriptor.Parser.ParseFrom(OtlpProtobuf.ToByteArray(request));
            Assert.Equal(request, parsed);
        }
    }

    [Fact]
    public void GeneratorFillsEveryFieldAndOneofCaseOfEveryReachableMessage()
    {
        // If the generator skipped a field, the byte comparisons above would prove nothing about it.
        var generator = new MessageGenerator(seed: 1);
        for (var round = 0; round < 40; round++)
            foreach (var descriptor in Requests)
                generator.Generate(descriptor);

        var expected = new SortedSet<string>(StringComparer.Ordinal);
        var seen = new HashSet<MessageDescriptor>();
        foreach (var descriptor in Requests) CollectFields(descriptor, seen, expected);

        var missing = expected.Except(generator.FilledFields).ToList();
        Assert.True(missing.Count == 0, "fields never filled with a value that is written: " + string.Join(", ", missing));
        // The protos hold about 150 fields; a walk that found only a handful would mean the walk itself is broken.
        Assert.True(expected.Count > 120, $"only {expected.Count} fields reachable from the export requests");
        Assert.True(seen.Count >= 30, $"only {seen.Count} message types reachable");
    }

    [Fact]
    public void WritesThroughBufferWriterAndFallsBackToGoogleForOtherMessages()
    {
        var request = SampleData.Traces(10);
        var writer = new ArrayBufferWriter<byte>();
        int size;
        using (var measured = OtlpProtobuf.Measure(request))
        {
            measured.WriteTo(writer);
            size = measured.Size;
        }
        Assert.Equal(request.ToByteArray(), writer.WrittenSpan.ToArray());
        Assert.Equal(request.CalculateSize(), size);

        var status = new OtelAi.Otlp.Proto.Rpc.Status { Code = 8, Message = "queue is full" };
        var statusWriter = new ArrayBufferWriter<byte>();
        using (var measured = OtlpProtobuf.Measure(status)) measured.WriteTo(statusWriter);
        Assert.Equal(status.ToByteArray(), statusWriter.WrittenSpan.ToArray());
    }

    [Fact]
    public void ReusedCacheMeasuresEachRequestAfresh()
    {
        var cache = new SizeCache(initialCapacity: 16);
        var large = SampleData.Traces(200);
        var small = SampleData.Logs(3);
        foreach (IMessage request in new IMessage[] { large, small, large })
        {
            var size = request switch
            {
                ExportTraceServiceRequest t => OtlpProtobuf.Measure(t, cache),
                ExportLogsServiceRequest l => OtlpProtobuf.Measure(l, cache),
                _ => throw new InvalidOperationException(),
            };
            var bytes = new byte[size + 7];
            if (request is ExportTraceServiceRequest traces) OtlpProtobuf.Write(traces, cache, bytes);
            else OtlpProtobuf.Write((ExportLogsServiceRequest)request, cache, bytes);
            Assert.Equal(request.ToByteArray(), bytes[..size]);
        }
    }

    [Fact]
    public void RequestChangedBetweenMeasureAndWriteFailsInsteadOfWritingCorruptBytes()
    {
        var request = SampleData.Traces(3);
        var cache = new SizeCache();
        var size = OtlpProtobuf.Measure(request, cache);
        request.ResourceSpans[0].ScopeSpans[0].Spans[0].Name = "renamed";
        var changed = Assert.Throws<InvalidOperationException>(() => OtlpProtobuf.Write(request, cache, new byte[size]));
        Assert.Contains("changed between", changed.Message);

        request.ResourceSpans[0].ScopeSpans[0].Spans[1].Attributes.Clear();
        Assert.Throws<InvalidOperationException>(() => OtlpProtobuf.Write(request, cache, new byte[size]));

        size = OtlpProtobuf.Measure(request, cache);
        Assert.Throws<ArgumentException>(() => OtlpProtobuf.Write(request, cache, new byte[size - 1]));
    }

    private static void AssertIdentical(IMessage request)
    {
        var expected = request.ToByteArray();
        Assert.Equal(expected.Length, OtlpProtobuf.CalculateSize(request));
        Assert.Equal(expected, OtlpProtobuf.ToByteArray(request));
    }

    private static void CollectFields(MessageDescriptor descriptor, HashSet<MessageDescriptor> seen, SortedSet<string> fields)
    {
        if (!seen.Add(descriptor)) return;
        foreach (var field in descriptor.Fields.InFieldNumberOrder())
        {
            fields.Add(MessageGenerator.FieldKey(field));
            if (field.FieldType == FieldType.Message) CollectFields(field.MessageType, seen, fields);
        }
    }

    /// <summary>
    /// Fills messages through their descriptors with values that are written on the wire: non-default scalars
    /// (multi-byte UTF-8, long strings, negative and ten-byte varints, open enum values), present proto3 optionals
    /// (sometimes holding 0), one case of each oneof in rotation, and repeated fields with zero to three elements.
    /// </summary>
    private sealed class MessageGenerator(int seed)
    {
        private const int MaxDepth = 12;

        private static readonly string[] Strings =
        [
            "a", "service.name", "héllo wörld", "日本語のテキスト", "emoji 🚀 and 𝄞", new string('x', 130), "многобайтовый " + new string('ж', 70),
        ];

        private readonly Random _random = new(seed);
        private readonly Dictionary<OneofDescriptor, int> _oneofRotation = [];

        /// <summary>Fields (as "Message.field") that received a value the wire format carries.</summary>
        public HashSet<string> FilledFields { get; } = new(StringComparer.Ordinal);

        public static string FieldKey(FieldDescriptor field) => $"{field.ContainingType.FullName}.{field.Name}";

        public IMessage Generate(MessageDescriptor descriptor) => Fill(descriptor, depth: 0);

        private IMessage Fill(MessageDescriptor descriptor, int depth)
        {
            var message = (IMessage)Activator.CreateInstance(descriptor.ClrType)!;
            foreach (var field in descriptor.Fields.InFieldNumberOrder())
            {
                if (field.RealContainingOneof is not null) continue;
                if (field.IsRepeated)
                {
                    var list = (IList)field.Accessor.GetValue(message);
                    // Near the top lists are never empty, so every request has data in each layer; deep in recursive
                    // values (AnyValue arrays) they stay empty so the tree stays finite.
                    var count = depth switch { < 3 => _random.Next(1, 4), >= MaxDepth - 2 => 0, _ => _random.Next(0, 4) };
                    for (var i = 0; i < count; i++) list.Add(Value(field, depth));
                    if (count > 0) FilledFields.Add(FieldKey(field));
                }
                else if (field.FieldType == FieldType.Message)
                {
                    // Optional sub-messages are sometimes left out, as senders do.
                    if (depth >= MaxDepth || _random.Next(5) == 0) continue;
                    field.Accessor.SetValue(message, Fill(field.MessageType, depth + 1));
                    FilledFields.Add(FieldKey(field));
                }
                else if (field.HasPresence)
                {
                    // proto3 optional: present, and every third time present with the default value.
                    field.Accessor.SetValue(message, _random.Next(3) == 0 ? Default(field) : Value(field, depth));
                    FilledFields.Add(FieldKey(field));
                }
                else
                {
                    field.Accessor.SetValue(message, Value(field, depth));
                    FilledFields.Add(FieldKey(field));
                }
            }
            foreach (var oneof in descriptor.Oneofs.Where(o => !o.IsSynthetic))
            {
                // Each oneof cycles through its cases; near the depth limit only cases without sub-messages.
                var cases = oneof.Fields.Where(f => depth < MaxDepth - 2 || f.FieldType != FieldType.Message).ToList();
                var turn = _oneofRotation.GetValueOrDefault(oneof);
                _oneofRotation[oneof] = turn + 1;
                var chosen = cases[(turn + seed) % cases.Count];
                // A oneof member is written even with its default value: set that case every fourth time.
                var value = chosen.FieldType != FieldType.Message && _random.Next(4) == 0 ? Default(chosen) : Value(chosen, depth);
                chosen.Accessor.SetValue(message, value);
                FilledFields.Add(FieldKey(chosen));
            }
            return message;
        }

        private object Value(FieldDescriptor field, int depth) => field.FieldType switch
        {
            FieldType.Message => Fill(field.MessageType, depth + 1),
            FieldType.String => Strings[_random.Next(Strings.Length)],
            FieldType.Bytes => ByteString.CopyFrom(Bytes(_random.Next(1, 4) switch { 1 => 8, 2 => 16, _ => 200 })),
            FieldType.Bool => true,
            FieldType.Double => _random.Next(4) switch { 0 => -1.5e300, 1 => double.Epsilon, 2 => double.NaN, _ => _random.NextDouble() * 1e6 },
            FieldType.Int64 => _random.Next(3) switch { 0 => long.MinValue, 1 => -1L, _ => _random.NextInt64(1, long.MaxValue) },
            FieldType.SFixed64 => _random.Next(2) == 0 ? -_random.NextInt64(1, long.MaxValue) : _random.NextInt64(1, long.MaxValue),
            FieldType.UInt64 or FieldType.Fixed64 => _random.Next(3) switch { 0 => ulong.MaxValue, 1 => 1UL, _ => (ulong)_random.NextInt64(1, long.MaxValue) << 1 },
            FieldType.UInt32 => _random.Next(3) switch { 0 => uint.MaxValue, 1 => 1U, _ => (uint)_random.Next(128, int.MaxValue) },
            FieldType.Fixed32 => _random.Next(2) == 0 ? uint.MaxValue : (uint)_random.Next(1, 0x3FF),
            FieldType.SInt32 => _random.Next(3) switch { 0 => int.MinValue, 1 => -_random.Next(1, 1000), _ => _random.Next(1, int.MaxValue) },
            FieldType.Enum => Enum.ToObject(field.EnumType.ClrType, _random.Next(4) switch
            {
                // Open proto3 enums: values outside the declared set, negatives included, must survive.
                0 => -3,
                1 => 1000,
                _ => field.EnumType.Values[_random.Next(1, field.EnumType.Values.Count)].Number,
            }),
            _ => throw new NotSupportedException($"{FieldKey(field)}: the generator has no values for {field.FieldType}; add them"),
        };

        private static object Default(FieldDescriptor field) => field.FieldType switch
        {
            FieldType.String => "",
            FieldType.Bytes => ByteString.Empty,
            FieldType.Bool => false,
            FieldType.Double => 0d,
            FieldType.Int64 or FieldType.SFixed64 => 0L,
            FieldType.UInt64 or FieldType.Fixed64 => 0UL,
            FieldType.UInt32 or FieldType.Fixed32 => 0U,
            FieldType.SInt32 => 0,
            FieldType.Enum => Enum.ToObject(field.EnumType.ClrType, 0),
            _ => throw new NotSupportedException($"{FieldKey(field)}: no default for {field.FieldType}"),
        };

        private byte[] Bytes(int length)
        {
            var bytes = new byte[length];
            _random.NextBytes(bytes);
            return bytes;
        }
    }
}
