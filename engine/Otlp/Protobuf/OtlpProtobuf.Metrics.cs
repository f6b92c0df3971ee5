using OtelAi.Otlp.Proto.Metrics.V1;

namespace OtelAi.Otlp.Protobuf;

// opentelemetry/proto/metrics/v1/metrics.proto.
internal static unsafe partial class OtlpProtobuf
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
        size += StringSize(message.Name, cache);
        size += StringSize(message.Description, cache);
        size += StringSize(message.Unit, cache);
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
        writer.StringField(0x0A, message.Name);
        writer.StringField(0x12, message.Description);
        writer.StringField(0x1A, message.Unit);
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

    private static int MeasureSum(Sum message, SizeCache cache)
    {
        var slot = cache.Reserve();
        var size = MeasureRepeated(message.DataPoints, cache, &MeasureNumberDataPoint);
        size += EnumSize((int)message.AggregationTemporality);
        size += BoolSize(message.IsMonotonic);
        return cache.Set(slot, size);
    }

    private static void WriteSum(ref ProtoWriter writer, Sum message)
    {
        writer.Length();
        WriteRepeated(ref writer, 0x0A, message.DataPoints, &WriteNumberDataPoint);
        writer.EnumField(0x10, (int)message.AggregationTemporality);
        writer.BoolField(0x18, message.IsMonotonic);
    }

    private static int MeasureHistogram(Histogram message, SizeCache cache)
    {
        var slot = cache.Reserve();
        var size = MeasureRepeated(message.DataPoints, cache, &MeasureHistogramDataPoint);
        size += EnumSize((int)message.AggregationTemporality);
        return cache.Set(slot, size);
    }

    private static void WriteHistogram(ref ProtoWriter writer, Histogram message)
    {
        writer.Length();
        WriteRepeated(ref writer, 0x0A, message.DataPoints, &WriteHistogramDataPoint);
        writer.EnumField(0x10, (int)message.AggregationTemporality);
    }

    private static int MeasureExponentialHistogram(ExponentialHistogram message, SizeCache cache)
    {
        var slot = cache.Reserve();
        var size = MeasureRepeated(message.DataPoints, cache, &MeasureExponentialHistogramDataPoint);
        size += EnumSize((int)message.AggregationTemporality);
        return cache.Set(slot, size);
    }

    private static void WriteExponentialHistogram(ref ProtoWriter writer, ExponentialHistogram message)
    {
        writer.Length();
        WriteRepeated(ref writer, 0x0A, message.DataPoints, &WriteExponentialHistogramDataPoint);
        writer.EnumField(0x10, (int)message.AggregationTemporality);
    }

    private static int MeasureSummary(Summary message, SizeCache cache) =>
        MeasureListMessage(message.DataPoints, cache, &MeasureSummaryDataPoint);

    private static void WriteSummary(ref ProtoWriter writer, Summary message) =>
        WriteListMessage(ref writer, message.DataPoints, &WriteSummaryDataPoint);

    private static int MeasureNumberDataPoint(NumberDataPoint message, SizeCache cache)
    {
        var slot = cache.Reserve();
        var size = 0;
        size += Fixed64Size(message.StartTimeUnixNano);
        size += Fixed64Size(message.TimeUnixNano);
        if (message.ValueCase != NumberDataPoint.ValueOneofCase.None) size += 9;
        size += MeasureRepeated(message.Exemplars, cache, &MeasureExemplar);
        size += MeasureRepeated(message.Attributes, cache, &MeasureKeyValue);
        size += UInt32Size(message.Flags);
        return cache.Set(slot, size);
    }

    private static void WriteNumberDataPoint(ref ProtoWriter writer, NumberDataPoint message)
    {
        writer.Length();
        writer.Fixed64Field(0x11, message.StartTimeUnixNano);
        writer.Fixed64Field(0x19, message.TimeUnixNano);
        writer.OptionalDoubleField(0x21, message.ValueCase == NumberDataPoint.ValueOneofCase.AsDouble, message.AsDouble);
        WriteRepeated(ref writer, 0x2A, message.Exemplars, &WriteExemplar);
        writer.OptionalFixed64Field(0x31, message.ValueCase == NumberDataPoint.ValueOneofCase.AsInt, (ulong)message.AsInt);
        WriteRepeated(ref writer, 0x3A, message.Attributes, &WriteKeyValue);
        writer.UInt32Field(0x40, message.Flags);
    }

    private static int MeasureHistogramDataPoint(HistogramDataPoint message, SizeCache cache)
    {
        var slot = cache.Reserve();
        var size = 0;
        size += Fixed64Size(message.StartTimeUnixNano);
        size += Fixed64Size(message.TimeUnixNano);
        size += Fixed64Size(message.Count);
        if (message.HasSum) size += 9;
        size += PackedFixed64Field(message.BucketCounts.Count);
        size += PackedFixed64Field(message.ExplicitBounds.Count);
        size += MeasureRepeated(message.Exemplars, cache, &MeasureExemplar);
        size += MeasureRepeated(message.Attributes, cache, &MeasureKeyValue);
        size += UInt32Size(message.Flags);
        if (message.HasMin) size += 9;
        if (message.HasMax) size += 9;
        return cache.Set(slot, size);
    }

    private static void WriteHistogramDataPoint(ref ProtoWriter writer, HistogramDataPoint message)
    {
        writer.Length();
        writer.Fixed64Field(0x11, message.StartTimeUnixNano);
        writer.Fixed64Field(0x19, message.TimeUnixNano);
        writer.Fixed64Field(0x21, message.Count);
        writer.OptionalDoubleField(0x29, message.HasSum, message.Sum);
        WritePackedFixed64(ref writer, 0x32, message.BucketCounts);
        WritePackedDouble(ref writer, 0x3A, message.ExplicitBounds);
        WriteRepeated(ref writer, 0x42, message.Exemplars, &WriteExemplar);
        WriteRepeated(ref writer, 0x4A, message.Attributes, &WriteKeyValue);
        writer.UInt32Field(0x50, message.Flags);
        writer.OptionalDoubleField(0x59, message.HasMin, message.Min);
        writer.OptionalDoubleField(0x61, message.HasMax, message.Max);
    }

    private static int MeasureExponentialHistogramDataPoint(ExponentialHistogramDataPoint message, SizeCache cache)
    {
        var slot = cache.Reserve();
        var size = MeasureRepeated(message.Attributes, cache, &MeasureKeyValue);
        size += Fixed64Size(message.StartTimeUnixNano);
        size += Fixed64Size(message.TimeUnixNano);
        size += Fixed64Size(message.Count);
        if (message.HasSum) size += 9;
        size += SInt32Size(message.Scale);
        size += Fixed64Size(message.ZeroCount);
        if (message.Positive is { } positive) size += 1 + Delimited(MeasureBuckets(positive, cache));
        if (message.Negative is { } negative) size += 1 + Delimited(MeasureBuckets(negative, cache));
        size += UInt32Size(message.Flags);
        size += MeasureRepeated(message.Exemplars, cache, &MeasureExemplar);
        if (message.HasMin) size += 9;
        if (message.HasMax) size += 9;
        size += DoubleSize(message.ZeroThreshold);
        return cache.Set(slot, size);
    }

    private static void WriteExponentialHistogramDataPoint(ref ProtoWriter writer, ExponentialHistogramDataPoint message)
    {
        writer.Length();
        WriteRepeated(ref writer, 0x0A, message.Attributes, &WriteKeyValue);
        writer.Fixed64Field(0x11, message.StartTimeUnixNano);
        writer.Fixed64Field(0x19, message.TimeUnixNano);
        writer.Fixed64Field(0x21, message.Count);
        writer.OptionalDoubleField(0x29, message.HasSum, message.Sum);
        writer.SInt32Field(0x30, message.Scale);
        writer.Fixed64Field(0x39, message.ZeroCount);
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
        writer.UInt32Field(0x50, message.Flags);
        WriteRepeated(ref writer, 0x5A, message.Exemplars, &WriteExemplar);
        writer.OptionalDoubleField(0x61, message.HasMin, message.Min);
        writer.OptionalDoubleField(0x69, message.HasMax, message.Max);
        writer.DoubleField(0x71, message.ZeroThreshold);
    }

    private static int MeasureBuckets(ExponentialHistogramDataPoint.Types.Buckets message, SizeCache cache)
    {
        var slot = cache.Reserve();
        var size = 0;
        size += SInt32Size(message.Offset);
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
        writer.SInt32Field(0x08, message.Offset);
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
        size += Fixed64Size(message.StartTimeUnixNano);
        size += Fixed64Size(message.TimeUnixNano);
        size += Fixed64Size(message.Count);
        size += DoubleSize(message.Sum);
        size += MeasureRepeated(message.QuantileValues, cache, &MeasureValueAtQuantile);
        size += MeasureRepeated(message.Attributes, cache, &MeasureKeyValue);
        size += UInt32Size(message.Flags);
        return cache.Set(slot, size);
    }

    private static void WriteSummaryDataPoint(ref ProtoWriter writer, SummaryDataPoint message)
    {
        writer.Length();
        writer.Fixed64Field(0x11, message.StartTimeUnixNano);
        writer.Fixed64Field(0x19, message.TimeUnixNano);
        writer.Fixed64Field(0x21, message.Count);
        writer.DoubleField(0x29, message.Sum);
        WriteRepeated(ref writer, 0x32, message.QuantileValues, &WriteValueAtQuantile);
        WriteRepeated(ref writer, 0x3A, message.Attributes, &WriteKeyValue);
        writer.UInt32Field(0x40, message.Flags);
    }

    private static int MeasureValueAtQuantile(SummaryDataPoint.Types.ValueAtQuantile message, SizeCache cache)
    {
        var slot = cache.Reserve();
        var size = 0;
        size += DoubleSize(message.Quantile);
        size += DoubleSize(message.Value);
        return cache.Set(slot, size);
    }

    private static void WriteValueAtQuantile(ref ProtoWriter writer, SummaryDataPoint.Types.ValueAtQuantile message)
    {
        writer.Length();
        writer.DoubleField(0x09, message.Quantile);
        writer.DoubleField(0x11, message.Value);
    }

    private static int MeasureExemplar(Exemplar message, SizeCache cache)
    {
        var slot = cache.Reserve();
        var size = 0;
        size += Fixed64Size(message.TimeUnixNano);
        if (message.ValueCase != Exemplar.ValueOneofCase.None) size += 9;
        size += BytesSize(message.SpanId);
        size += BytesSize(message.TraceId);
        size += MeasureRepeated(message.FilteredAttributes, cache, &MeasureKeyValue);
        return cache.Set(slot, size);
    }

    private static void WriteExemplar(ref ProtoWriter writer, Exemplar message)
    {
        writer.Length();
        writer.Fixed64Field(0x11, message.TimeUnixNano);
        writer.OptionalDoubleField(0x19, message.ValueCase == Exemplar.ValueOneofCase.AsDouble, message.AsDouble);
        writer.BytesField(0x22, message.SpanId);
        writer.BytesField(0x2A, message.TraceId);
        writer.OptionalFixed64Field(0x31, message.ValueCase == Exemplar.ValueOneofCase.AsInt, (ulong)message.AsInt);
        WriteRepeated(ref writer, 0x3A, message.FilteredAttributes, &WriteKeyValue);
    }
}
