using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.Collections;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;

namespace OtelAi.Otlp.Protobuf;

/// <summary>
/// Protobuf serializer for the OTLP export requests that computes every nested size once.
/// Google.Protobuf's generated WriteTo asks each nested message for CalculateSize() when writing its length prefix,
/// and that recomputes the whole subtree, so a KeyValue deep inside a metric is sized once per nesting level.
/// Here <c>Measure</c> walks the tree once, bottom-up, recording each size (and each string's UTF-8 byte count) in a
/// <see cref="SizeCache"/>; <c>Write</c> walks it again in the same order, taking the prefixes from the cache.
/// The bytes are identical to <c>ToByteArray()</c> (fields in field-number order, proto3 defaults omitted) for messages
/// without unknown fields; the receivers parse with unknown fields discarded, so pipeline data never has any.
/// Each message type's Measure and Write sit side by side in the partial files and must visit fields in the same order.
/// </summary>
internal static partial class OtlpProtobuf
{
    internal const string ChangedSinceMeasure = "the request changed between OtlpProtobuf.Measure and Write";

    public static unsafe int Measure(ExportTraceServiceRequest request, SizeCache cache) =>
        MeasureRequest(request.ResourceSpans, cache, &MeasureResourceSpans);

    public static unsafe int Measure(ExportMetricsServiceRequest request, SizeCache cache) =>
        MeasureRequest(request.ResourceMetrics, cache, &MeasureResourceMetrics);

    public static unsafe int Measure(ExportLogsServiceRequest request, SizeCache cache) =>
        MeasureRequest(request.ResourceLogs, cache, &MeasureResourceLogs);

    /// <summary>Writes <paramref name="request"/> as measured into <paramref name="cache"/>; fills <c>cache.TotalSize</c> bytes.</summary>
    public static unsafe void Write(ExportTraceServiceRequest request, SizeCache cache, Span<byte> destination) =>
        WriteRequest(request.ResourceSpans, cache, destination, &WriteResourceSpans);

    /// <summary>Writes <paramref name="request"/> as measured into <paramref name="cache"/>; fills <c>cache.TotalSize</c> bytes.</summary>
    public static unsafe void Write(ExportMetricsServiceRequest request, SizeCache cache, Span<byte> destination) =>
        WriteRequest(request.ResourceMetrics, cache, destination, &WriteResourceMetrics);

    /// <summary>Writes <paramref name="request"/> as measured into <paramref name="cache"/>; fills <c>cache.TotalSize</c> bytes.</summary>
    public static unsafe void Write(ExportLogsServiceRequest request, SizeCache cache, Span<byte> destination) =>
        WriteRequest(request.ResourceLogs, cache, destination, &WriteResourceLogs);

    // The three export requests are one repeated field 1 of resource groups.
    private static unsafe int MeasureRequest<T>(RepeatedField<T> resources, SizeCache cache, delegate*<T, SizeCache, int> measure)
        where T : class
    {
        cache.Reset();
        var size = MeasureRepeated(resources, cache, measure);
        cache.Complete(size);
        return size;
    }

    private static unsafe void WriteRequest<T>(RepeatedField<T> resources, SizeCache cache, Span<byte> destination, delegate*<ref ProtoWriter, T, void> write)
        where T : class
    {
        if (destination.Length < cache.TotalSize)
            throw new ArgumentException($"destination holds {destination.Length} bytes; the request needs {cache.TotalSize}", nameof(destination));
        var writer = new ProtoWriter(destination[..cache.TotalSize], cache.Entries);
        try
        {
            WriteRepeated(ref writer, 0x0A, resources, write);
        }
        catch (Exception ex) when (ex is IndexOutOfRangeException or ArgumentException)
        {
            // Sizes read out of step with the tree: the request was changed after Measure.
            throw new InvalidOperationException(ChangedSinceMeasure, ex);
        }
        // A mismatch means the request was changed between Measure and Write: fail rather than send a corrupt message.
        if (writer.Position != cache.TotalSize || writer.SizesRead != cache.Count)
            throw new InvalidOperationException(ChangedSinceMeasure);
    }

    /// <summary>
    /// Size of a repeated message field: per element a tag, a length prefix and the element. Every repeated message
    /// field this serializer writes has a field number of 15 or less, so its tag is one byte (<see cref="WriteRepeated"/> asserts it).
    /// Function pointers rather than delegates: no allocation and no delegate dispatch on the hot path.
    /// </summary>
    private static unsafe int MeasureRepeated<T>(RepeatedField<T> items, SizeCache cache, delegate*<T, SizeCache, int> measure)
        where T : class
    {
        var size = 0;
        for (var i = 0; i < items.Count; i++) size += 1 + Delimited(measure(items[i], cache));
        return size;
    }

    /// <summary>Writes a repeated message field measured by <see cref="MeasureRepeated"/>, each element under the one-byte <paramref name="tag"/>.</summary>
    private static unsafe void WriteRepeated<T>(ref ProtoWriter writer, byte tag, RepeatedField<T> items, delegate*<ref ProtoWriter, T, void> write)
        where T : class
    {
        Debug.Assert(tag < 0x80, "MeasureRepeated counts one byte per tag");
        for (var i = 0; i < items.Count; i++)
        {
            writer.Tag(tag);
            write(ref writer, items[i]);
        }
    }

    /// <summary>A message whose only field is repeated message field 1 (ArrayValue, KeyValueList, Gauge, Summary).</summary>
    private static unsafe int MeasureListMessage<T>(RepeatedField<T> items, SizeCache cache, delegate*<T, SizeCache, int> measure)
        where T : class
    {
        var slot = cache.Reserve();
        return cache.Set(slot, MeasureRepeated(items, cache, measure));
    }

    private static unsafe void WriteListMessage<T>(ref ProtoWriter writer, RepeatedField<T> items, delegate*<ref ProtoWriter, T, void> write)
        where T : class
    {
        writer.Length();
        WriteRepeated(ref writer, 0x0A, items, write);
    }

    /// <summary>
    /// Resource{Spans,Metrics,Logs} and Scope{Spans,Metrics,Logs} share one layout: field 1 the resource or scope
    /// (a message), field 2 the repeated scope groups or items, field 3 schema_url.
    /// </summary>
    private static unsafe int MeasureGroup<THead, TItem>(
        THead? head, delegate*<THead, SizeCache, int> measureHead,
        RepeatedField<TItem> items, delegate*<TItem, SizeCache, int> measureItem,
        string schemaUrl, SizeCache cache)
        where THead : class where TItem : class
    {
        var slot = cache.Reserve();
        var size = 0;
        if (head is not null) size += 1 + Delimited(measureHead(head, cache));
        size += MeasureRepeated(items, cache, measureItem);
        size += StringSize(schemaUrl, cache);
        return cache.Set(slot, size);
    }

    private static unsafe void WriteGroup<THead, TItem>(
        ref ProtoWriter writer,
        THead? head, delegate*<ref ProtoWriter, THead, void> writeHead,
        RepeatedField<TItem> items, delegate*<ref ProtoWriter, TItem, void> writeItem,
        string schemaUrl)
        where THead : class where TItem : class
    {
        writer.Length();
        if (head is not null)
        {
            writer.Tag(0x0A);
            writeHead(ref writer, head);
        }
        WriteRepeated(ref writer, 0x12, items, writeItem);
        writer.StringField(0x1A, schemaUrl);
    }

    /// <summary>
    /// Sizes any message for a following write: the OTLP export requests with this serializer, anything else
    /// (google.rpc.Status, responses) with Google.Protobuf. Dispose the result to give its cache back.
    /// </summary>
    public static MeasuredMessage Measure(IMessage message)
    {
        switch (message)
        {
            case ExportTraceServiceRequest traces:
            {
                var cache = SizeCache.Rent();
                return new MeasuredMessage(message, cache, Measure(traces, cache));
            }
            case ExportMetricsServiceRequest metrics:
            {
                var cache = SizeCache.Rent();
                return new MeasuredMessage(message, cache, Measure(metrics, cache));
            }
            case ExportLogsServiceRequest logs:
            {
                var cache = SizeCache.Rent();
                return new MeasuredMessage(message, cache, Measure(logs, cache));
            }
            default:
                return new MeasuredMessage(message, null, message.CalculateSize());
        }
    }

    /// <summary>Serialized size of <paramref name="message"/>.</summary>
    public static int CalculateSize(IMessage message)
    {
        using var measured = Measure(message);
        return measured.Size;
    }

    public static byte[] ToByteArray(IMessage message)
    {
        using var measured = Measure(message);
        var bytes = new byte[measured.Size];
        measured.WriteTo(bytes);
        return bytes;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Delimited(int length) => ProtoWriter.Delimited(length);

    /// <summary>Size of a string field with a one-byte tag, written even when empty (oneof member, repeated element); records the byte count for the write pass.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int StringField(string value, SizeCache cache) => 1 + Delimited(cache.Add(Utf8Length(value)));

    // Most attribute keys and values are short ASCII: the vectorized check costs less than the general encoder's count.
    private static int Utf8Length(string value) => Ascii.IsValid(value) ? value.Length : Encoding.UTF8.GetByteCount(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int BytesField(ByteString value) => 1 + Delimited(value.Length);

    // Sizes of proto3 fields with implicit presence and a one-byte tag, matching ProtoWriter's *Field writers:
    // zero for the default value, which is not written. A string's byte count is recorded only when it is written.

    // Not forced inline: forced, every string's UTF-8 count is inlined into LogRecord's Measure, where the JIT otherwise
    // stops inlining and calls out for the later ones (seen in the JIT's disassembly); the JIT decides.
    private static int StringSize(string value, SizeCache cache) => value.Length == 0 ? 0 : StringField(value, cache);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int BytesSize(ByteString value) => value.Length == 0 ? 0 : BytesField(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Fixed64Size(ulong value) => value == 0 ? 0 : 1 + 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Fixed32Size(uint value) => value == 0 ? 0 : 1 + 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int DoubleSize(double value) => value == 0 ? 0 : 1 + 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int BoolSize(bool value) => value ? 2 : 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int UInt32Size(uint value) => value == 0 ? 0 : 1 + ProtoWriter.VarintSize(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int EnumSize(int value) => value == 0 ? 0 : 1 + ProtoWriter.Int32Size(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int SInt32Size(int value) => value == 0 ? 0 : 1 + ProtoWriter.VarintSize((uint)ProtoWriter.ZigZag(value));

    /// <summary>Size of a non-empty packed fixed64/double field (one-byte tag).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int PackedFixed64Field(int count) => count == 0 ? 0 : 1 + Delimited(count * 8);

    private static void WritePackedFixed64(ref ProtoWriter writer, byte tag, RepeatedField<ulong> values)
    {
        if (values.Count == 0) return;
        writer.Tag(tag);
        writer.Varint((uint)(values.Count * 8));
        for (var i = 0; i < values.Count; i++) writer.Fixed64(values[i]);
    }

    private static void WritePackedDouble(ref ProtoWriter writer, byte tag, RepeatedField<double> values)
    {
        if (values.Count == 0) return;
        writer.Tag(tag);
        writer.Varint((uint)(values.Count * 8));
        for (var i = 0; i < values.Count; i++) writer.Double(values[i]);
    }
}

/// <summary>
/// A message with its size computed, ready to be written once. A ref struct so it cannot outlive the synchronous
/// code that measured it (the message must not change in between). Dispose gives the size cache back.
/// </summary>
internal ref struct MeasuredMessage
{
    private readonly IMessage _message;
    private SizeCache? _cache;

    internal MeasuredMessage(IMessage message, SizeCache? cache, int size)
    {
        _message = message;
        _cache = cache;
        Size = size;
    }

    public int Size { get; }

    /// <summary>Writes exactly <see cref="Size"/> bytes at the start of <paramref name="destination"/>.</summary>
    public readonly void WriteTo(Span<byte> destination)
    {
        switch (_message)
        {
            case ExportTraceServiceRequest traces when _cache is not null: OtlpProtobuf.Write(traces, _cache, destination); break;
            case ExportMetricsServiceRequest metrics when _cache is not null: OtlpProtobuf.Write(metrics, _cache, destination); break;
            case ExportLogsServiceRequest logs when _cache is not null: OtlpProtobuf.Write(logs, _cache, destination); break;
            default: _message.WriteTo(destination[..Size]); break;
        }
    }

    /// <summary>Writes into one contiguous span of <paramref name="writer"/> (streaming writers may issue zero-length advances some sinks reject).</summary>
    public readonly void WriteTo(IBufferWriter<byte> writer)
    {
        var span = writer.GetSpan(Size);
        WriteTo(span);
        writer.Advance(Size);
    }

    public void Dispose()
    {
        if (_cache is { } cache) SizeCache.Return(cache);
        _cache = null;
    }
}
