using OtelAi.Proto.Metrics.V1;

namespace OtelAi.Engine.Telemetry;

// opentelemetry/proto/metrics/v1/metrics.proto.
public static unsafe partial class OtlpProtobuf
{
    private static int MeasureResourceMetrics(ResourceMetrics message, SizeCache cache) =>
        MeasureGroup(message.Resource, &MeasureResource, message.ScopeMetrics, &MeasureScopeMetrics, message.SchemaUrl, cache);

    private static void WriteResourceMetrics(ref ProtoWriter writer, ResourceMetrics message) =>
        WriteGroup(ref writer, message.Resource, &WriteResource, message.ScopeMetrics, &WriteScopeMetrics, message.SchemaUrl);

    private static int MeasureScopeMetrics(ScopeMetrics message, SizeCache cache) =>
        MeasureGroup(message.Scope, &MeasureScope, message.Metrics, &MeasureMetric, message.SchemaUrl, cache);

    private static void WriteScopeMetrics(ref ProtoWriter writer, ScopeMetrics message) =>
        WriteGroup(ref writer, message.Scope, &WriteScope, message.Metrics, &WriteMetric, message.SchemaUrl);

    private static int MeasureMetric(Metric message, SizeCache cache)
    {
        var slot = cache.Reserve();
        var size = 0;
        if (message.Name.Length != 0) size += StringField(message.Name, cache);
        if (message.Description.Length != 0) size += StringField(message.Description, cache);
        if (message.Unit.Length != 0) size += StringField(message.Unit, cache);
        size += message.DataCase switch
        {
            Metric.DataOneofCase.Gauge => 1 + Delimited(MeasureGauge(message.Gauge, cache)),
            Metric.DataOneofCase.Sum => 1 + Delimited(MeasureSum(message.Sum, cache)),
            Metric.DataOneofCase.Histogram => 1 + Delimited(MeasureHistogram(message.Histogram, cache)),
            Metric.DataOneofCase.ExponentialHistogram => 1 + Delimited(MeasureExponentialHistogram(message.ExponentialHistogram, cache)),
            Metric.DataOneofCase.Summary => 1 + Delimited(MeasureSummary(message.Summary, cache)),
            _ => 0,
        };
        size += MeasureRepeated(message.Metadata, cache, &MeasureKeyValue);
        return cache.Set(slot, size);
    }

    private static void WriteMetric(ref ProtoWriter writer, Metric message)
    {
        writer.Length();
        if (message.Name.Length != 0)
        {
            writer.Tag(0x0A);
            writer.String(message.Name);
        }
        if (message.Description.Length != 0)
        {
            writer.Tag(0x12);
            writer.String(message.Description);
        }
        if (message.Unit.Length != 0)
        {
            writer.Tag(0x1A);
            writer.String(message.Unit);
        }
        switch (message.DataCase)
        {
            case Metric.DataOneofCase.Gauge:
                writer.Tag(0x2A);
                WriteGauge(ref writer, message.Gauge);
                break;
            case Metric.DataOneofCase.Sum:
                writer.Tag(0x3A);
                WriteSum(ref writer, message.Sum);
                break;
            case Metric.DataOneofCase.Histogram:
                writer.Tag(0x4A);
                WriteHistogram(ref writer, message.Histogram);
                break;
            case Metric.DataOneofCase.ExponentialHistogram:
                writer.Tag(0x52);
                WriteExponentialHistogram(ref writer, message.ExponentialHistogram);
                break;
            case Metric.DataOneofCase.Summary:
                writer.Tag(0x5A);
                WriteSummary(ref writer, message.Summary);
                break;
        }
        WriteRepeated(ref writer, 0x62, message.Metadata, &WriteKeyValue);
    }

    private static int MeasureGauge(Gauge message, SizeCache cache) =>
        MeasureListMessage(message.DataPoints, cache, &MeasureNumberDataPoint);

    private static void WriteGauge(ref ProtoWriter writer, Gauge message) =>
        WriteListMessage(ref writer, message.DataPoints, &WriteNumberDataPoint);

    // Sum, Histogram and ExponentialHistogram all carry aggregation_temporality as field 2.
    private static int TemporalityField(AggregationTemporality value) =>
        value == AggregationTemporality.Unspecified ? 0 : 1 + ProtoWriter.Int32Size((int)value);

    private static void WriteTemporality(ref ProtoWriter writer, AggregationTemporality value)
    {
        if (value == AggregationTemporality.Unspecified) return;
        writer.Tag(0x10);
        writer.Int32((int)value);
    }

    private static int MeasureSum(Sum message, SizeCache cache)
    {
        var slot = cache.Reserve();
        var size = MeasureRepeated(message.DataPoints, cache, &MeasureNumberDataPoint);
        size += TemporalityField(message.AggregationTemporality);
        if (message.IsMonotonic) size += 2;
        return cache.Set(slot, size);
    }

    private static void WriteSum(ref ProtoWriter writer, Sum message)
    {
        writer.Length();
        WriteRepeated(ref writer, 0x0A, message.DataPoints, &WriteNumberDataPoint);
        WriteTemporality(ref writer, message.AggregationTemporality);
        if (message.IsMonotonic)
        {
            writer.Tag(0x18);
            writer.Bool(true);
        }
    }

    private static int MeasureHistogram(Histogram message, SizeCache cache)
    {
        var slot = cache.Reserve();
        var size = MeasureRepeated(message.DataPoints, cache, &MeasureHistogramDataPoint);
        size += TemporalityField(message.AggregationTemporality);
        return cache.Set(slot, size);
    }

    private static void WriteHistogram(ref ProtoWriter writer, Histogram message)
    {
        writer.Length();
        WriteRepeated(ref writer, 0x0A, message.DataPoints, &WriteHistogramDataPoint);
        WriteTemporality(ref writer, message.AggregationTemporality);
    }

    private static int MeasureExponentialHistogram(ExponentialHistogram message, SizeCache cache)
    {
        var slot = cache.Reserve();
        var size = MeasureRepeated(message.DataPoints, cache, &MeasureExponentialHistogramDataPoint);
        size += TemporalityField(message.AggregationTemporality);
        return cache.Set(slot, size);
    }

    private static void WriteExponentialHistogram(ref ProtoWriter writer, ExponentialHistogram message)
    {
        writer.Length();
        WriteRepeated(ref writer, 0x0A, message.DataPoints, &WriteExponentialHistogramDataPoint);
        WriteTemporality(ref writer, message.AggregationTemporality);
    }

    private static int MeasureSummary(Summary message, SizeCache cache) =>
        MeasureListMessage(message.DataPoints, cache, &MeasureSummaryDataPoint);

    private static void WriteSummary(ref ProtoWriter writer, Summary message) =>
        WriteListMessage(ref writer, message.DataPoints, &WriteSummaryDataPoint);

    private static int MeasureNumberDataPoint(NumberDataPoint message, SizeCache cache)
    {
        var slot = cache.Reserve();
        var size = 0;
        if (message.StartTimeUnixNano != 0) size += 9;
        if (message.TimeUnixNano != 0) size += 9;
        if (message.ValueCase != NumberDataPoint.ValueOneofCase.None) size += 9;
        size += MeasureRepeated(message.Exemplars, cache, &MeasureExemplar);
        size += MeasureRepeated(message.Attributes, cache, &MeasureKeyValue);
        if (message.Flags != 0) size += 1 + ProtoWriter.VarintSize(message.Flags);
        return cache.Set(slot, size);
    }

    private static void WriteNumberDataPoint(ref ProtoWriter writer, NumberDataPoint message)
    {
        writer.Length();
        if (message.StartTimeUnixNano != 0)
        {
            writer.Tag(0x11);
            writer.Fixed64(message.StartTimeUnixNano);
        }
        if (message.TimeUnixNano != 0)
        {
            writer.Tag(0x19);
            writer.Fixed64(message.TimeUnixNano);
        }
        if (message.ValueCase == NumberDataPoint.ValueOneofCase.AsDouble)
        {
            writer.Tag(0x21);
            writer.Double(message.AsDouble);
        }
        WriteRepeated(ref writer, 0x2A, message.Exemplars, &WriteExemplar);
        if (message.ValueCase == NumberDataPoint.ValueOneofCase.AsInt)
        {
            writer.Tag(0x31);
            writer.Fixed64((ulong)message.AsInt);
        }
        WriteRepeated(ref writer, 0x3A, message.Attributes, &WriteKeyValue);
        if (message.Flags != 0)
        {
            writer.Tag(0x40);
            writer.Varint(message.Flags);
        }
    }

    private static int MeasureHistogramDataPoint(HistogramDataPoint message, SizeCache cache)
    {
        var slot = cache.Reserve();
        var size = 0;
        if (message.StartTimeUnixNano != 0) size += 9;
        if (message.TimeUnixNano != 0) size += 9;
        if (message.Count != 0) size += 9;
        if (message.HasSum) size += 9;
        size += PackedFixed64Field(message.BucketCounts.Count);
        size += PackedFixed64Field(message.ExplicitBounds.Count);
        size += MeasureRepeated(message.Exemplars, cache, &MeasureExemplar);
        size += MeasureRepeated(message.Attributes, cache, &MeasureKeyValue);
        if (message.Flags != 0) size += 1 + ProtoWriter.VarintSize(message.Flags);
        if (message.HasMin) size += 9;
        if (message.HasMax) size += 9;
        return cache.Set(slot, size);
    }

    private static void WriteHistogramDataPoint(ref ProtoWriter writer, HistogramDataPoint message)
    {
        writer.Length();
        if (message.StartTimeUnixNano != 0)
        {
            writer.Tag(0x11);
            writer.Fixed64(message.StartTimeUnixNano);
        }
        if (message.TimeUnixNano != 0)
        {
            writer.Tag(0x19);
            writer.Fixed64(message.TimeUnixNano);
        }
        if (message.Count != 0)
        {
            writer.Tag(0x21);
            writer.Fixed64(message.Count);
        }
        if (message.HasSum)
        {
            writer.Tag(0x29);
            writer.Double(message.Sum);
        }
        WritePackedFixed64(ref writer, 0x32, message.BucketCounts);
        WritePackedDouble(ref writer, 0x3A, message.ExplicitBounds);
        WriteRepeated(ref writer, 0x42, message.Exemplars, &WriteExemplar);
        WriteRepeated(ref writer, 0x4A, message.Attributes, &WriteKeyValue);
        if (message.Flags != 0)
        {
            writer.Tag(0x50);
            writer.Varint(message.Flags);
        }
        if (message.HasMin)
        {
            writer.Tag(0x59);
            writer.Double(message.Min);
        }
        if (message.HasMax)
        {
            writer.Tag(0x61);
            writer.Double(message.Max);
        }
    }

    private static int MeasureExponentialHistogramDataPoint(ExponentialHistogramDataPoint message, SizeCache cache)
    {
        var slot = cache.Reserve();
        var size = MeasureRepeated(message.Attributes, cache, &MeasureKeyValue);
        if (message.StartTimeUnixNano != 0) size += 9;
        if (message.TimeUnixNano != 0) size += 9;
        if (message.Count != 0) size += 9;
        if (message.HasSum) size += 9;
        if (message.Scale != 0) size += 1 + ProtoWriter.VarintSize((uint)ProtoWriter.ZigZag(message.Scale));
        if (message.ZeroCount != 0) size += 9;
        if (message.Positive is { } positive) size += 1 + Delimited(MeasureBuckets(positive, cache));
        if (message.Negative is { } negative) size += 1 + Delimited(MeasureBuckets(negative, cache));
        if (message.Flags != 0) size += 1 + ProtoWriter.VarintSize(message.Flags);
        size += MeasureRepeated(message.Exemplars, cache, &MeasureExemplar);
        if (message.HasMin) size += 9;
        if (message.HasMax) size += 9;
        if (message.ZeroThreshold != 0) size += 9;
        return cache.Set(slot, size);
    }

    private static void WriteExponentialHistogramDataPoint(ref ProtoWriter writer, ExponentialHistogramDataPoint message)
    {
        writer.Length();
        WriteRepeated(ref writer, 0x0A, message.Attributes, &WriteKeyValue);
        if (message.StartTimeUnixNano != 0)
        {
            writer.Tag(0x11);
            writer.Fixed64(message.StartTimeUnixNano);
        }
        if (message.TimeUnixNano != 0)
        {
            writer.Tag(0x19);
            writer.Fixed64(message.TimeUnixNano);
        }
        if (message.Count != 0)
        {
            writer.Tag(0x21);
            writer.Fixed64(message.Count);
        }
        if (message.HasSum)
        {
            writer.Tag(0x29);
            writer.Double(message.Sum);
        }
        if (message.Scale != 0)
        {
            writer.Tag(0x30);
            writer.Varint((uint)ProtoWriter.ZigZag(message.Scale));
        }
        if (message.ZeroCount != 0)
        {
            writer.Tag(0x39);
            writer.Fixed64(message.ZeroCount);
        }
        if (message.Positive is { } positive)
        {
            writer.Tag(0x42);
            WriteBuckets(ref writer, positive);
        }
        if (message.Negative is { } negative)
        {
            writer.Tag(0x4A);
            WriteBuckets(ref writer, negative);
        }
        if (message.Flags != 0)
        {
            writer.Tag(0x50);
            writer.Varint(message.Flags);
        }
        WriteRepeated(ref writer, 0x5A, message.Exemplars, &WriteExemplar);
        if (message.HasMin)
        {
            writer.Tag(0x61);
            writer.Double(message.Min);
        }
        if (message.HasMax)
        {
            writer.Tag(0x69);
            writer.Double(message.Max);
        }
        if (message.ZeroThreshold != 0)
        {
            writer.Tag(0x71);
            writer.Double(message.ZeroThreshold);
        }
    }

    private static int MeasureBuckets(ExponentialHistogramDataPoint.Types.Buckets message, SizeCache cache)
    {
        var slot = cache.Reserve();
        var size = 0;
        if (message.Offset != 0) size += 1 + ProtoWriter.VarintSize((uint)ProtoWriter.ZigZag(message.Offset));
        var counts = message.BucketCounts;
        if (counts.Count != 0)
        {
            // Packed varints: the payload length is recorded for the writer's prefix.
            var packed = 0;
            for (var i = 0; i < counts.Count; i++) packed += ProtoWriter.VarintSize(counts[i]);
            size += 1 + Delimited(cache.Add(packed));
        }
        return cache.Set(slot, size);
    }

    private static void WriteBuckets(ref ProtoWriter writer, ExponentialHistogramDataPoint.Types.Buckets message)
    {
        writer.Length();
        if (message.Offset != 0)
        {
            writer.Tag(0x08);
            writer.Varint((uint)ProtoWriter.ZigZag(message.Offset));
        }
        var counts = message.BucketCounts;
        if (counts.Count != 0)
        {
            writer.Tag(0x12);
            writer.Length();
            for (var i = 0; i < counts.Count; i++) writer.Varint(counts[i]);
        }
    }

    private static int MeasureSummaryDataPoint(SummaryDataPoint message, SizeCache cache)
    {
        var slot = cache.Reserve();
        var size = 0;
        if (message.StartTimeUnixNano != 0) size += 9;
        if (message.TimeUnixNano != 0) size += 9;
        if (message.Count != 0) size += 9;
        if (message.Sum != 0) size += 9;
        size += MeasureRepeated(message.QuantileValues, cache, &MeasureValueAtQuantile);
        size += MeasureRepeated(message.Attributes, cache, &MeasureKeyValue);
        if (message.Flags != 0) size += 1 + ProtoWriter.VarintSize(message.Flags);
        return cache.Set(slot, size);
    }

    private static void WriteSummaryDataPoint(ref ProtoWriter writer, SummaryDataPoint message)
    {
        writer.Length();
        if (message.StartTimeUnixNano != 0)
        {
            writer.Tag(0x11);
            writer.Fixed64(message.StartTimeUnixNano);
        }
        if (message.TimeUnixNano != 0)
        {
            writer.Tag(0x19);
            writer.Fixed64(message.TimeUnixNano);
        }
        if (message.Count != 0)
        {
            writer.Tag(0x21);
            writer.Fixed64(message.Count);
        }
        if (message.Sum != 0)
        {
            writer.Tag(0x29);
            writer.Double(message.Sum);
        }
        WriteRepeated(ref writer, 0x32, message.QuantileValues, &WriteValueAtQuantile);
        WriteRepeated(ref writer, 0x3A, message.Attributes, &WriteKeyValue);
        if (message.Flags != 0)
        {
            writer.Tag(0x40);
            writer.Varint(message.Flags);
        }
    }

    private static int MeasureValueAtQuantile(SummaryDataPoint.Types.ValueAtQuantile message, SizeCache cache)
    {
        var slot = cache.Reserve();
        var size = 0;
        if (message.Quantile != 0) size += 9;
        if (message.Value != 0) size += 9;
        return cache.Set(slot, size);
    }

    private static void WriteValueAtQuantile(ref ProtoWriter writer, SummaryDataPoint.Types.ValueAtQuantile message)
    {
        writer.Length();
        if (message.Quantile != 0)
        {
            writer.Tag(0x09);
            writer.Double(message.Quantile);
        }
        if (message.Value != 0)
        {
            writer.Tag(0x11);
            writer.Double(message.Value);
        }
    }

    private static int MeasureExemplar(Exemplar message, SizeCache cache)
    {
        var slot = cache.Reserve();
        var size = 0;
        if (message.TimeUnixNano != 0) size += 9;
        if (message.ValueCase != Exemplar.ValueOneofCase.None) size += 9;
        if (message.SpanId.Length != 0) size += BytesField(message.SpanId);
        if (message.TraceId.Length != 0) size += BytesField(message.TraceId);
        size += MeasureRepeated(message.FilteredAttributes, cache, &MeasureKeyValue);
        return cache.Set(slot, size);
    }

    private static void WriteExemplar(ref ProtoWriter writer, Exemplar message)
    {
        writer.Length();
        if (message.TimeUnixNano != 0)
        {
            writer.Tag(0x11);
            writer.Fixed64(message.TimeUnixNano);
        }
        if (message.ValueCase == Exemplar.ValueOneofCase.AsDouble)
        {
            writer.Tag(0x19);
            writer.Double(message.AsDouble);
        }
        if (message.SpanId.Length != 0)
        {
            writer.Tag(0x22);
            writer.Bytes(message.SpanId);
        }
        if (message.TraceId.Length != 0)
        {
            writer.Tag(0x2A);
            writer.Bytes(message.TraceId);
        }
        if (message.ValueCase == Exemplar.ValueOneofCase.AsInt)
        {
            writer.Tag(0x31);
            writer.Fixed64((ulong)message.AsInt);
        }
        WriteRepeated(ref writer, 0x3A, message.FilteredAttributes, &WriteKeyValue);
    }
}
