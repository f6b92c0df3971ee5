using System.Buffers;
using System.Text;
using OtelAi.Exporters.PrometheusCommon;
using OtelAi.Otlp.Grpc;

namespace OtelAi.Exporters.PrometheusRemoteWrite;

/// <summary>
/// Writes remote write 1.0 <c>prometheus.WriteRequest</c> bodies straight from translated series, without building
/// message objects: the labels of a series are encoded once and reused for each of its samples (a histogram's
/// buckets, sum and count), with <c>__name__</c> and <c>le</c>/<c>quantile</c> spliced in at their sorted places.
/// Bodies are cut before max_batch_size_bytes. The bytes are what Google.Protobuf writes for the same message
/// (field order, defaults left out); labels with empty values are left out, as Prometheus treats them as absent.
/// </summary>
internal sealed class RemoteWriteEncoder(long maxBodyBytes) : IDisposable
{
    private const string NameLabel = "__name__";
    private readonly PooledBufferWriter _body = new(64 * 1024);
    private readonly PooledBufferWriter _labels = new(4 * 1024);
    private readonly PooledBufferWriter _metadata = new(1024);
    private readonly List<int> _labelEnds = [];
    private readonly List<string> _labelNames = [];
    private readonly List<byte[]> _bodies = [];

    public int TimeSeriesCount { get; private set; }

    /// <summary>Encodes the labels of the series whose samples follow (sorted by name, without __name__).</summary>
    public void BeginSeries(PromLabel[] labels)
    {
        _labels.Clear();
        _labelEnds.Clear();
        _labelNames.Clear();
        foreach (var label in labels)
        {
            if (label.Value.Length == 0) continue;
            WriteLabel(_labels, 1, label.Name, label.Value);
            _labelEnds.Add(_labels.WrittenCount);
            _labelNames.Add(label.Name);
        }
    }

    /// <summary>One TimeSeries: the current labels plus __name__ and <paramref name="extra"/>, one sample, an optional exemplar.</summary>
    public void AddSample(string name, PromLabel? extra, double value, long timestampMs, PromExemplar? exemplar)
    {
        var nameAt = InsertionIndex(NameLabel);
        var extraAt = extra is { } e ? InsertionIndex(e.Name) : -1;
        var nameEntry = LabelEntrySize(NameLabel, name);
        var extraEntry = extra is { } x ? LabelEntrySize(x.Name, x.Value) : 0;
        var sampleSize = SampleSize(value, timestampMs);
        var exemplarSize = exemplar is { } ex ? ExemplarSize(ex) : 0;
        var seriesSize = _labels.WrittenCount + nameEntry + extraEntry + 1 + VarintSize((ulong)sampleSize) + sampleSize
            + (exemplar is null ? 0 : 1 + VarintSize((ulong)exemplarSize) + exemplarSize);
        var entrySize = 1 + VarintSize((ulong)seriesSize) + seriesSize;
        if (_body.WrittenCount > 0 && _body.WrittenCount + entrySize > maxBodyBytes) Flush();

        Tag(_body, 1, 2);
        Varint(_body, (ulong)seriesSize);
        // Labels in order: __name__ and the extra label spliced in among the series' own, by name.
        if (extra is not { } extraLabel)
        {
            CopyLabels(0, nameAt);
            WriteLabel(_body, 1, NameLabel, name);
            CopyLabels(nameAt, _labelEnds.Count);
        }
        else if (nameAt < extraAt || nameAt == extraAt && string.CompareOrdinal(NameLabel, extraLabel.Name) < 0)
        {
            CopyLabels(0, nameAt);
            WriteLabel(_body, 1, NameLabel, name);
            CopyLabels(nameAt, extraAt);
            WriteLabel(_body, 1, extraLabel.Name, extraLabel.Value);
            CopyLabels(extraAt, _labelEnds.Count);
        }
        else
        {
            CopyLabels(0, extraAt);
            WriteLabel(_body, 1, extraLabel.Name, extraLabel.Value);
            CopyLabels(extraAt, nameAt);
            WriteLabel(_body, 1, NameLabel, name);
            CopyLabels(nameAt, _labelEnds.Count);
        }
        Tag(_body, 2, 2);
        Varint(_body, (ulong)sampleSize);
        WriteSample(value, timestampMs);
        if (exemplar is { } exemplarValue)
        {
            Tag(_body, 3, 2);
            Varint(_body, (ulong)exemplarSize);
            WriteExemplar(exemplarValue);
        }
        TimeSeriesCount++;
    }

    /// <summary>A MetricMetadata entry (field 3 of WriteRequest): they go after the time series of the last body.</summary>
    public void AddMetadata(int type, string familyName, string help, string unit)
    {
        var size = (type != 0 ? 1 + VarintSize((ulong)type) : 0) + StringFieldSize(familyName) + StringFieldSize(help) + StringFieldSize(unit);
        Tag(_metadata, 3, 2);
        Varint(_metadata, (ulong)size);
        if (type != 0)
        {
            Tag(_metadata, 1, 0);
            Varint(_metadata, (ulong)type);
        }
        StringField(_metadata, 2, familyName);
        StringField(_metadata, 4, help);
        StringField(_metadata, 5, unit);
    }

    /// <summary>The bodies written so far, snappy-compressed; the encoder starts over.</summary>
    public byte[][] Finish()
    {
        if (_metadata.WrittenCount > 0)
        {
            _metadata.WrittenSpan.CopyTo(_body.GetSpan(_metadata.WrittenCount));
            _body.Advance(_metadata.WrittenCount);
            _metadata.Clear();
        }
        if (_body.WrittenCount > 0) Flush();
        var bodies = _bodies.ToArray();
        _bodies.Clear();
        return bodies;
    }

    private void Flush()
    {
        _bodies.Add(Snappier.Snappy.CompressToArray(_body.WrittenSpan));
        _body.Clear();
    }

    /// <summary>How many of the current labels sort before <paramref name="name"/>.</summary>
    private int InsertionIndex(string name)
    {
        var index = 0;
        while (index < _labelNames.Count && string.CompareOrdinal(_labelNames[index], name) < 0) index++;
        return index;
    }

    /// <summary>Copies the encoded labels [fromLabel, toLabel) of the current series into the body.</summary>
    private void CopyLabels(int fromLabel, int toLabel)
    {
        if (toLabel <= fromLabel) return;
        var start = fromLabel == 0 ? 0 : _labelEnds[fromLabel - 1];
        var end = _labelEnds[toLabel - 1];
        _labels.WrittenSpan[start..end].CopyTo(_body.GetSpan(end - start));
        _body.Advance(end - start);
    }

    private static int LabelEntrySize(string name, string value)
    {
        var size = StringFieldSize(name) + StringFieldSize(value);
        return 1 + VarintSize((ulong)size) + size;
    }

    private static void WriteLabel(PooledBufferWriter output, int field, string name, string value)
    {
        Tag(output, field, 2);
        Varint(output, (ulong)(StringFieldSize(name) + StringFieldSize(value)));
        StringField(output, 1, name);
        StringField(output, 2, value);
    }

    private static int SampleSize(double value, long timestampMs) =>
        (BitConverter.DoubleToInt64Bits(value) != 0 ? 9 : 0) + (timestampMs != 0 ? 1 + VarintSize((ulong)timestampMs) : 0);

    private void WriteSample(double value, long timestampMs)
    {
        if (BitConverter.DoubleToInt64Bits(value) != 0) DoubleField(_body, 1, value);
        if (timestampMs != 0)
        {
            Tag(_body, 2, 0);
            Varint(_body, (ulong)timestampMs);
        }
    }

    private static int ExemplarSize(PromExemplar exemplar)
    {
        var size = LabelEntrySize("trace_id", exemplar.TraceId);
        if (exemplar.SpanId.Length > 0) size += LabelEntrySize("span_id", exemplar.SpanId);
        var timestamp = exemplar.TimeUnixNano / 1_000_000;
        return size + (BitConverter.DoubleToInt64Bits(exemplar.Value) != 0 ? 9 : 0) + (timestamp != 0 ? 1 + VarintSize((ulong)timestamp) : 0);
    }

    private void WriteExemplar(PromExemplar exemplar)
    {
        if (exemplar.SpanId.Length > 0) WriteLabel(_body, 1, "span_id", exemplar.SpanId); // sorted: span_id < trace_id
        WriteLabel(_body, 1, "trace_id", exemplar.TraceId);
        if (BitConverter.DoubleToInt64Bits(exemplar.Value) != 0) DoubleField(_body, 2, exemplar.Value);
        var timestamp = exemplar.TimeUnixNano / 1_000_000;
        if (timestamp != 0)
        {
            Tag(_body, 3, 0);
            Varint(_body, (ulong)timestamp);
        }
    }

    private static int StringFieldSize(string value)
    {
        if (value.Length == 0) return 0;
        var bytes = Encoding.UTF8.GetByteCount(value);
        return 1 + VarintSize((ulong)bytes) + bytes;
    }

    private static void StringField(PooledBufferWriter output, int field, string value)
    {
        if (value.Length == 0) return;
        var bytes = Encoding.UTF8.GetByteCount(value);
        Tag(output, field, 2);
        Varint(output, (ulong)bytes);
        Encoding.UTF8.GetBytes(value, output.GetSpan(bytes));
        output.Advance(bytes);
    }

    private static void DoubleField(PooledBufferWriter output, int field, double value)
    {
        Tag(output, field, 1);
        var span = output.GetSpan(8);
        System.Buffers.Binary.BinaryPrimitives.WriteDoubleLittleEndian(span, value);
        output.Advance(8);
    }

    private static void Tag(PooledBufferWriter output, int field, int wireType) => Varint(output, (ulong)((field << 3) | wireType));

    private static void Varint(PooledBufferWriter output, ulong value)
    {
        var span = output.GetSpan(10);
        var length = 0;
        while (value >= 0x80)
        {
            span[length++] = (byte)(value | 0x80);
            value >>= 7;
        }
        span[length++] = (byte)value;
        output.Advance(length);
    }

    private static int VarintSize(ulong value) => (System.Numerics.BitOperations.Log2(value | 1) * 9 + 73) >> 6;

    public void Dispose()
    {
        _body.Dispose();
        _labels.Dispose();
        _metadata.Dispose();
    }
}
