using Google.Protobuf;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Logs.V1;
using OtelAi.Otlp.Proto.Metrics.V1;
using OtelAi.Otlp.Proto.Trace.V1;

namespace OtelAi.Receivers.Ebpf;

/// <summary>
/// Records of a user-described <see cref="EventLayout"/> → one span, gauge point (points of one name share a metric)
/// or log record each. Time fields are CLOCK_MONOTONIC nanoseconds (bpf_ktime_get_ns); a record without a time field
/// is stamped when it is decoded.
/// </summary>
internal sealed class LayoutEventConverter(EventLayout layout, MonotonicClock clock) : IEventConverter
{
    private readonly EventField? _start = layout.FieldFor("start_time");
    private readonly EventField? _end = layout.FieldFor("end_time");
    private readonly EventField? _duration = layout.FieldFor("duration");
    private readonly EventField? _time = layout.FieldFor("time");
    private readonly EventField? _name = layout.FieldFor("name");
    private readonly EventField? _value = layout.FieldFor("value");
    private readonly EventField? _body = layout.FieldFor("body");
    private readonly EventField? _severity = layout.FieldFor("severity_number");
    private readonly EventField? _pid = layout.FieldFor("pid");
    private readonly EventField[] _attributes = layout.Fields.Where(f => f.Target?.StartsWith("attributes.", StringComparison.Ordinal) == true).ToArray();
    private readonly EventField[] _resource = layout.Fields.Where(f => f.Target?.StartsWith("resource.", StringComparison.Ordinal) == true).ToArray();

    public bool TryAdd(ReadOnlySpan<byte> record, TelemetryBatch batch)
    {
        if (record.Length < layout.MinimumRecordSize) return false;
        var pid = _pid is null ? 0 : (int)_pid.ReadUnsigned(record);
        var name = _name is null ? layout.Name : Text(_name, record);
        List<KeyValue>? resource = null;
        foreach (var f in _resource) (resource ??= []).Add(Kv(f, "resource.".Length, record));
        switch (layout.Signal)
        {
            case EventSignal.Traces:
                var start = _start is null ? Now() : clock.ToUnixNanoseconds(_start.ReadUnsigned(record));
                var end = _end is not null ? clock.ToUnixNanoseconds(_end.ReadUnsigned(record))
                    : _duration is not null ? start + _duration.ReadUnsigned(record) : start;
                var span = new Span
                {
                    TraceId = Ids.TraceId(), SpanId = Ids.SpanId(), Name = name, Kind = Span.Types.SpanKind.Internal,
                    StartTimeUnixNano = start, EndTimeUnixNano = Math.Max(start, end),
                };
                AddAttributes(span.Attributes, record);
                batch.Add(pid, span, resource);
                break;
            case EventSignal.Metrics:
                var point = new NumberDataPoint { TimeUnixNano = TimeOf(record) };
                if (_value is null) point.AsInt = 1;
                else if (_value.Kind == FieldKind.Signed) point.AsInt = _value.ReadSigned(record);
                else point.AsInt = (long)_value.ReadUnsigned(record);
                AddAttributes(point.Attributes, record);
                batch.AddGaugePoint(pid, name, point, resource);
                break;
            default:
                var log = new LogRecord { TimeUnixNano = TimeOf(record), ObservedTimeUnixNano = Now(), EventName = _name is null ? layout.Name : name };
                if (_body is not null) log.Body = Value(_body, record);
                if (_severity is not null) log.SeverityNumber = (SeverityNumber)(int)_severity.ReadUnsigned(record);
                AddAttributes(log.Attributes, record);
                batch.Add(pid, log, resource);
                break;
        }
        return true;
    }

    private ulong TimeOf(ReadOnlySpan<byte> record) => _time is null ? Now() : clock.ToUnixNanoseconds(_time.ReadUnsigned(record));

    private static ulong Now() => (ulong)(DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;

    private void AddAttributes(Google.Protobuf.Collections.RepeatedField<KeyValue> attributes, ReadOnlySpan<byte> record)
    {
        foreach (var f in _attributes) attributes.Add(Kv(f, "attributes.".Length, record));
    }

    private static KeyValue Kv(EventField f, int prefix, ReadOnlySpan<byte> record) => new() { Key = f.Target![prefix..], Value = Value(f, record) };

    private static string Text(EventField f, ReadOnlySpan<byte> record) => f.IsInteger ? f.ReadSigned(record).ToString(System.Globalization.CultureInfo.InvariantCulture) : f.ReadString(record);

    private static AnyValue Value(EventField f, ReadOnlySpan<byte> record) => f.Kind switch
    {
        FieldKind.Chars => Attributes.String(f.ReadString(record)),
        FieldKind.Bytes => new AnyValue { BytesValue = ByteString.CopyFrom(record.Slice(f.Offset, f.Size)) },
        FieldKind.Signed => new AnyValue { IntValue = f.ReadSigned(record) },
        _ => new AnyValue { IntValue = (long)f.ReadUnsigned(record) },
    };
}
