using Google.Protobuf.Reflection;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Otlp.Proto.Logs.V1;
using OtelAi.Otlp.Proto.Metrics.V1;
using OtelAi.Otlp.Proto.Trace.V1;

namespace OtelAi.Otlp.Wire;

/// <summary>How a field's value is encoded and which values Google.Protobuf would write back unchanged.</summary>
internal enum WireKind : byte
{
    Int32,   // int32 and enum: a varint, negatives sign-extended to 10 bytes
    UInt32,
    Int64,   // int64 and uint64: any varint
    SInt32,
    Bool,
    Fixed32, // fixed32, sfixed32
    Fixed64, // fixed64, sfixed64
    Float,
    Double,
    String,
    Bytes,
    Message,
}

/// <summary>What the walker counts when it enters a message of this type.</summary>
internal enum WireRole : byte
{
    None,
    Item,   // a span, a log record, a metric data point
    Metric, // a metric (metrics requests only; the debug exporter reports them)
}

/// <summary>One field as the walker checks it.</summary>
internal sealed class WireField
{
    public required WireKind Kind { get; init; }

    /// <summary>The wire type the canonical encoding uses (2 for packed repeated scalars).</summary>
    public required int WireType { get; init; }

    public required bool Repeated { get; init; }

    /// <summary>A repeated scalar written packed: one length-delimited record of elements.</summary>
    public required bool Packed { get; init; }

    /// <summary>Written even when it holds its default (oneof member, proto3 optional, message).</summary>
    public required bool HasPresence { get; init; }

    /// <summary>Index of the real oneof the field belongs to, or -1.</summary>
    public required int Oneof { get; init; }

    public WireMessage? Message { get; set; }

    /// <summary>For an id field: the only length it may have when present (0: no rule).</summary>
    public int IdLength { get; init; }

    /// <summary>The id must be present and not all zero (a span's trace_id and span_id).</summary>
    public bool IdRequired { get; init; }
}

/// <summary>One message type: its fields by number, what it counts as, and the fields it must carry.</summary>
internal sealed class WireMessage
{
    public required WireField?[] Fields { get; init; }

    public WireRole Role { get; set; }

    /// <summary>Bit n set: field n must be present (ids the signal requires).</summary>
    public ulong RequiredFields { get; set; }
}

/// <summary>
/// The three OTLP export requests as tables the wire walker reads, built once from the protos' descriptors, so that a
/// field added to a .proto file is known to the walker without a hand-written line. The item and id rules are the
/// ones <see cref="OtlpSignal{T}"/> applies to decoded requests.
/// </summary>
internal static class WireSchema
{
    public static WireMessage Traces { get; }
    public static WireMessage Metrics { get; }
    public static WireMessage Logs { get; }

    static WireSchema()
    {
        var built = new Dictionary<MessageDescriptor, WireMessage>();
        Traces = Build(ExportTraceServiceRequest.Descriptor, built);
        Metrics = Build(ExportMetricsServiceRequest.Descriptor, built);
        Logs = Build(ExportLogsServiceRequest.Descriptor, built);

        built[Span.Descriptor].Role = WireRole.Item;
        built[LogRecord.Descriptor].Role = WireRole.Item;
        built[NumberDataPoint.Descriptor].Role = WireRole.Item;
        built[HistogramDataPoint.Descriptor].Role = WireRole.Item;
        built[ExponentialHistogramDataPoint.Descriptor].Role = WireRole.Item;
        built[SummaryDataPoint.Descriptor].Role = WireRole.Item;
        built[Metric.Descriptor].Role = WireRole.Metric;

        // As OtlpSignal's item rules: a span needs a 16-byte trace id and an 8-byte span id, neither all zero; optional
        // parent and log record ids are empty or of their length.
        var span = built[Span.Descriptor];
        SetId(span, Span.TraceIdFieldNumber, 16, required: true);
        SetId(span, Span.SpanIdFieldNumber, 8, required: true);
        SetId(span, Span.ParentSpanIdFieldNumber, 8, required: false);
        var log = built[LogRecord.Descriptor];
        SetId(log, LogRecord.TraceIdFieldNumber, 16, required: false);
        SetId(log, LogRecord.SpanIdFieldNumber, 8, required: false);
    }

    public static WireMessage For(Signal signal) => signal switch
    {
        Signal.Traces => Traces,
        Signal.Metrics => Metrics,
        Signal.Logs => Logs,
        _ => throw new ArgumentOutOfRangeException(nameof(signal)),
    };

    private static void SetId(WireMessage message, int number, int length, bool required)
    {
        var field = message.Fields[number]!;
        message.Fields[number] = new WireField
        {
            Kind = field.Kind, WireType = field.WireType, Repeated = false, Packed = false, HasPresence = false, Oneof = -1,
            IdLength = length, IdRequired = required,
        };
        if (required) message.RequiredFields |= 1UL << number;
    }

    private static WireMessage Build(MessageDescriptor descriptor, Dictionary<MessageDescriptor, WireMessage> built)
    {
        if (built.TryGetValue(descriptor, out var existing)) return existing;
        var fields = descriptor.Fields.InFieldNumberOrder();
        var table = new WireField?[fields.Count == 0 ? 1 : fields[^1].FieldNumber + 1];
        var message = new WireMessage { Fields = table };
        built[descriptor] = message; // before the children: AnyValue contains itself through ArrayValue and KeyValueList
        var oneofs = descriptor.Oneofs.Where(o => !o.IsSynthetic).ToList();
        foreach (var field in fields)
        {
            if (field.FieldNumber > 63) throw new NotSupportedException($"{descriptor.FullName}.{field.Name}: field numbers above 63 need a wider presence mask");
            var kind = KindOf(field);
            // Google.Protobuf reports every proto3 repeated field as packed; only numeric scalars can be.
            var packed = field.IsRepeated && field.IsPacked && kind is not (WireKind.String or WireKind.Bytes or WireKind.Message);
            table[field.FieldNumber] = new WireField
            {
                Kind = kind,
                WireType = packed ? 2 : WireTypeOf(kind),
                Repeated = field.IsRepeated,
                Packed = packed,
                HasPresence = field.HasPresence,
                Oneof = field.RealContainingOneof is { } oneof ? oneofs.IndexOf(oneof) : -1,
            };
        }
        if (oneofs.Count > 32) throw new NotSupportedException($"{descriptor.FullName}: more than 32 oneofs");
        foreach (var field in fields)
            if (field.FieldType == FieldType.Message) table[field.FieldNumber]!.Message = Build(field.MessageType, built);
        return message;
    }

    private static WireKind KindOf(FieldDescriptor field) => field.FieldType switch
    {
        FieldType.Int32 or FieldType.Enum => WireKind.Int32,
        FieldType.UInt32 => WireKind.UInt32,
        FieldType.Int64 or FieldType.UInt64 or FieldType.SInt64 => WireKind.Int64,
        FieldType.SInt32 => WireKind.SInt32,
        FieldType.Bool => WireKind.Bool,
        FieldType.Fixed32 or FieldType.SFixed32 => WireKind.Fixed32,
        FieldType.Fixed64 or FieldType.SFixed64 => WireKind.Fixed64,
        FieldType.Float => WireKind.Float,
        FieldType.Double => WireKind.Double,
        FieldType.String => WireKind.String,
        FieldType.Bytes => WireKind.Bytes,
        FieldType.Message => WireKind.Message,
        _ => throw new NotSupportedException($"{field.FullName}: {field.FieldType} fields are not used by OTLP"),
    };

    private static int WireTypeOf(WireKind kind) => kind switch
    {
        WireKind.Fixed64 or WireKind.Double => 1,
        WireKind.String or WireKind.Bytes or WireKind.Message => 2,
        WireKind.Fixed32 or WireKind.Float => 5,
        _ => 0,
    };
}
