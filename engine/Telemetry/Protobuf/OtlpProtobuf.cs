using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.Collections;
using OtelAi.Proto.Collector.Logs.V1;
using OtelAi.Proto.Collector.Metrics.V1;
using OtelAi.Proto.Collector.Trace.V1;

namespace OtelAi.Engine.Telemetry;

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
public static partial class OtlpProtobuf
{
    internal const string ChangedSinceMeasure = "the request changed between OtlpProtobuf.Measure and Write";

    public static int Measure(ExportTraceServiceRequest request, SizeCache cache)
    {
        cache.Reset();
        var size = 0;
        var resources = request.ResourceSpans;
        for (var i = 0; i < resources.Count; i++) size += 1 + ProtoWriter.Delimited(MeasureResourceSpans(resources[i], cache));
        cache.Complete(size);
        return size;
    }

    public static int Measure(ExportMetricsServiceRequest request, SizeCache cache)
    {
        cache.Reset();
        var size = 0;
        var resources = request.ResourceMetrics;
        for (var i = 0; i < resources.Count; i++) size += 1 + ProtoWriter.Delimited(MeasureResourceMetrics(resources[i], cache));
        cache.Complete(size);
        return size;
    }

    public static int Measure(ExportLogsServiceRequest request, SizeCache cache)
    {
        cache.Reset();
        var size = 0;
        var resources = request.ResourceLogs;
        for (var i = 0; i < resources.Count; i++) size += 1 + ProtoWriter.Delimited(MeasureResourceLogs(resources[i], cache));
        cache.Complete(size);
        return size;
    }

    /// <summary>Writes <paramref name="request"/> as measured into <paramref name="cache"/>; fills <c>cache.TotalSize</c> bytes.</summary>
    public static void Write(ExportTraceServiceRequest request, SizeCache cache, Span<byte> destination)
    {
        var writer = Begin(cache, destination);
        try
        {
            var resources = request.ResourceSpans;
            for (var i = 0; i < resources.Count; i++)
            {
                writer.Tag(0x0A);
                WriteResourceSpans(ref writer, resources[i]);
            }
        }
        catch (Exception ex) when (ex is IndexOutOfRangeException or ArgumentException)
        {
            // Sizes read out of step with the tree: the request was changed after Measure.
            throw new InvalidOperationException(ChangedSinceMeasure, ex);
        }
        End(ref writer, cache);
    }

    /// <summary>Writes <paramref name="request"/> as measured into <paramref name="cache"/>; fills <c>cache.TotalSize</c> bytes.</summary>
    public static void Write(ExportMetricsServiceRequest request, SizeCache cache, Span<byte> destination)
    {
        var writer = Begin(cache, destination);
        try
        {
            var resources = request.ResourceMetrics;
            for (var i = 0; i < resources.Count; i++)
            {
                writer.Tag(0x0A);
                WriteResourceMetrics(ref writer, resources[i]);
            }
        }
        catch (Exception ex) when (ex is IndexOutOfRangeException or ArgumentException)
        {
            // Sizes read out of step with the tree: the request was changed after Measure.
            throw new InvalidOperationException(ChangedSinceMeasure, ex);
        }
        End(ref writer, cache);
    }

    /// <summary>Writes <paramref name="request"/> as measured into <paramref name="cache"/>; fills <c>cache.TotalSize</c> bytes.</summary>
    public static void Write(ExportLogsServiceRequest request, SizeCache cache, Span<byte> destination)
    {
        var writer = Begin(cache, destination);
        try
        {
            var resources = request.ResourceLogs;
            for (var i = 0; i < resources.Count; i++)
            {
                writer.Tag(0x0A);
                WriteResourceLogs(ref writer, resources[i]);
            }
        }
        catch (Exception ex) when (ex is IndexOutOfRangeException or ArgumentException)
        {
            // Sizes read out of step with the tree: the request was changed after Measure.
            throw new InvalidOperationException(ChangedSinceMeasure, ex);
        }
        End(ref writer, cache);
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

    /// <summary>Serializes <paramref name="message"/> into one contiguous span of <paramref name="writer"/>; returns the size.</summary>
    public static int Serialize(IMessage message, IBufferWriter<byte> writer)
    {
        using var measured = Measure(message);
        measured.WriteTo(writer);
        return measured.Size;
    }

    public static byte[] ToByteArray(IMessage message)
    {
        using var measured = Measure(message);
        var bytes = new byte[measured.Size];
        measured.WriteTo(bytes);
        return bytes;
    }

    private static ProtoWriter Begin(SizeCache cache, Span<byte> destination)
    {
        if (destination.Length < cache.TotalSize)
            throw new ArgumentException($"destination holds {destination.Length} bytes; the request needs {cache.TotalSize}", nameof(destination));
        return new ProtoWriter(destination[..cache.TotalSize], cache.Entries);
    }

    // A mismatch means the request was changed between Measure and Write: fail rather than send a corrupt message.
    private static void End(ref ProtoWriter writer, SizeCache cache)
    {
        if (writer.Position != cache.TotalSize || writer.SizesRead != cache.Count)
            throw new InvalidOperationException(ChangedSinceMeasure);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Delimited(int length) => ProtoWriter.Delimited(length);

    /// <summary>Size of a string field with a one-byte tag; records the byte count for the write pass.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int StringField(string value, SizeCache cache) => 1 + Delimited(cache.Add(Utf8Length(value)));

    // Most attribute keys and values are short ASCII: the vectorized check costs less than the general encoder's count.
    private static int Utf8Length(string value) => Ascii.IsValid(value) ? value.Length : Encoding.UTF8.GetByteCount(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int BytesField(ByteString value) => 1 + Delimited(value.Length);

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
public ref struct MeasuredMessage
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
