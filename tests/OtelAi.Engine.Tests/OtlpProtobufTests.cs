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
}
