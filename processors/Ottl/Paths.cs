using Google.Protobuf;
using Google.Protobuf.Collections;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Metrics.V1;
using OtelAi.Otlp.Proto.Trace.V1;

namespace OtelAi.Processors.Ottl;

/// <summary>A resolved path: how to read it, how to write it (null when read-only).</summary>
internal sealed record CompiledPath(OttlGetter Get, OttlSetter? Set, string Text);

/// <summary>One field of a context before index steps are applied.</summary>
internal sealed record Field(OttlGetter Get, OttlSetter? Set, Func<OttlContext, AnyValue>? AnyHolder = null);

/// <summary>
/// The paths of each otelcol OTTL context (ottlresource, ottlscope, ottlspan, ottlspanevent, ottlmetric,
/// ottldatapoint, ottllog), and the index chains (<c>["key"]</c>, <c>[0]</c>) on maps, lists and bodies.
/// </summary>
internal static class Paths
{
    private static readonly string[] ContextPrefixes = ["resource", "scope", "instrumentation_scope", "span", "spanevent", "metric", "datapoint", "log"];

    public static bool IsContextPrefix(string name) => Array.IndexOf(ContextPrefixes, name) >= 0;

    public static CompiledPath Resolve(PathNode node, Compiler compiler)
    {
        var names = node.Names;
        OttlContextKind target;
        int first;
        if (IsContextPrefix(names[0]) && (names.Count > 1 || node.Keys.Count > 0 || names[0] == "resource"))
        {
            target = OttlContextNames.Parse(names[0])!.Value;
            first = 1;
            if (!compiler.Context.CanReach(target))
                throw compiler.Error(node.Pos, $"path \"{node.Dotted}\" is not available in the {compiler.Context.Name()} context");
        }
        else
        {
            if (compiler.RequireContextPrefix)
                throw compiler.Error(node.Pos, $"missing context name for path \"{node.Dotted}\" (write e.g. {compiler.Context.Name()}.{node.Dotted}, or set the group's context)");
            target = compiler.Context;
            first = 0;
        }
        if (first >= names.Count)
            throw compiler.Error(node.Pos, $"incomplete path \"{node.Dotted}\": name a field of {target.Name()}");

        var fieldName = string.Join('.', names.Skip(first));
        var field = (fieldName == "cache" ? Cache(target) : FieldOf(target, fieldName))
            ?? throw compiler.Error(node.Pos, $"unknown path \"{node.Dotted}\" in the {target.Name()} context");

        if (node.Keys.Count == 0) return new CompiledPath(field.Get, field.Set, node.Dotted);
        if (node.Keys is [{ Key: LiteralNode { Value.Type: OttlType.String } literal }] && field.AnyHolder is null)
            return SingleKeyPath(field, literal.Value.String, node.Dotted);
        var keys = node.Keys.Select(k => compiler.CompileValue(k.Key)).ToArray();
        return new CompiledPath(IndexedGetter(field.Get, keys), field.Set is null ? null : IndexedSetter(field, keys), node.Dotted);
    }

    private static Field Cache(OttlContextKind kind) => new(
        ctx => OttlValue.Of(ctx.Cache(kind)),
        (OttlContext ctx, in OttlValue v) => ReplaceMap(ctx.Cache(kind), v, "cache"));

    private static Field? FieldOf(OttlContextKind kind, string name) => kind switch
    {
        OttlContextKind.Resource => name switch
        {
            "attributes" => AttributesField(ctx => ctx.Resource.Attributes),
            "dropped_attributes_count" => UInt(ctx => ctx.Resource.DroppedAttributesCount, (ctx, v) => ctx.Resource.DroppedAttributesCount = v),
            _ => null,
        },
        OttlContextKind.Scope => name switch
        {
            "name" => Str(ctx => ctx.Scope.Name, (ctx, v) => ctx.Scope.Name = v),
            "version" => Str(ctx => ctx.Scope.Version, (ctx, v) => ctx.Scope.Version = v),
            "attributes" => AttributesField(ctx => ctx.Scope.Attributes),
            "dropped_attributes_count" => UInt(ctx => ctx.Scope.DroppedAttributesCount, (ctx, v) => ctx.Scope.DroppedAttributesCount = v),
            _ => null,
        },
        OttlContextKind.Span => SpanField(name),
        OttlContextKind.SpanEvent => name switch
        {
            "name" => Str(ctx => ctx.SpanEvent.Name, (ctx, v) => ctx.SpanEvent.Name = v),
            "time_unix_nano" => Nanos(ctx => ctx.SpanEvent.TimeUnixNano, (ctx, v) => ctx.SpanEvent.TimeUnixNano = v),
            "time" => Time(ctx => ctx.SpanEvent.TimeUnixNano, (ctx, v) => ctx.SpanEvent.TimeUnixNano = v),
            "attributes" => AttributesField(ctx => ctx.SpanEvent.Attributes),
            "dropped_attributes_count" => UInt(ctx => ctx.SpanEvent.DroppedAttributesCount, (ctx, v) => ctx.SpanEvent.DroppedAttributesCount = v),
            _ => null,
        },
        OttlContextKind.Metric => MetricField(name),
        OttlContextKind.DataPoint => DataPointField(name),
        _ => LogField(name),
    };

    private static Field? SpanField(string name) => name switch
    {
        "trace_id" => Id(ctx => ctx.Span.TraceId, (ctx, v) => ctx.Span.TraceId = v, 16),
        "trace_id.string" => HexId(ctx => ctx.Span.TraceId, (ctx, v) => ctx.Span.TraceId = v, 16),
        "span_id" => Id(ctx => ctx.Span.SpanId, (ctx, v) => ctx.Span.SpanId = v, 8),
        "span_id.string" => HexId(ctx => ctx.Span.SpanId, (ctx, v) => ctx.Span.SpanId = v, 8),
        "parent_span_id" => Id(ctx => ctx.Span.ParentSpanId, (ctx, v) => ctx.Span.ParentSpanId = v, 8),
        "parent_span_id.string" => HexId(ctx => ctx.Span.ParentSpanId, (ctx, v) => ctx.Span.ParentSpanId = v, 8),
        "trace_state" => Str(ctx => ctx.Span.TraceState, (ctx, v) => ctx.Span.TraceState = v),
        "name" => new Field(ctx => OttlValue.Of(ctx.Span.Name), (OttlContext ctx, in OttlValue v) => ctx.Span.Name = Expect(v, OttlType.String, "name").String),
        "kind" => Int(ctx => (long)ctx.Span.Kind, (ctx, v) => ctx.Span.Kind = (Span.Types.SpanKind)v),
        "kind.string" => new Field(ctx => OttlValue.Of(KindString(ctx.Span.Kind)), null),
        "start_time_unix_nano" => Nanos(ctx => ctx.Span.StartTimeUnixNano, (ctx, v) => ctx.Span.StartTimeUnixNano = v),
        "end_time_unix_nano" => Nanos(ctx => ctx.Span.EndTimeUnixNano, (ctx, v) => ctx.Span.EndTimeUnixNano = v),
        "start_time" => Time(ctx => ctx.Span.StartTimeUnixNano, (ctx, v) => ctx.Span.StartTimeUnixNano = v),
        "end_time" => Time(ctx => ctx.Span.EndTimeUnixNano, (ctx, v) => ctx.Span.EndTimeUnixNano = v),
        "attributes" => AttributesField(ctx => ctx.Span.Attributes),
        "dropped_attributes_count" => UInt(ctx => ctx.Span.DroppedAttributesCount, (ctx, v) => ctx.Span.DroppedAttributesCount = v),
        "dropped_events_count" => UInt(ctx => ctx.Span.DroppedEventsCount, (ctx, v) => ctx.Span.DroppedEventsCount = v),
        "dropped_links_count" => UInt(ctx => ctx.Span.DroppedLinksCount, (ctx, v) => ctx.Span.DroppedLinksCount = v),
        "flags" => UInt(ctx => ctx.Span.Flags, (ctx, v) => ctx.Span.Flags = v),
        "status.code" => Int(ctx => (long)(ctx.Span.Status?.Code ?? Status.Types.StatusCode.Unset),
            (ctx, v) => (ctx.Span.Status ??= new Status()).Code = (Status.Types.StatusCode)v),
        "status.message" => Str(ctx => ctx.Span.Status?.Message ?? "", (ctx, v) => (ctx.Span.Status ??= new Status()).Message = v),
        _ => null,
    };

    private static string KindString(Span.Types.SpanKind kind) => kind switch
    {
        Span.Types.SpanKind.Internal => "Internal",
        Span.Types.SpanKind.Server => "Server",
        Span.Types.SpanKind.Client => "Client",
        Span.Types.SpanKind.Producer => "Producer",
        Span.Types.SpanKind.Consumer => "Consumer",
        _ => "Unspecified",
    };

    /// <summary>otelcol's pmetric.MetricType numbering (METRIC_DATA_TYPE_*), not the proto oneof field numbers.</summary>
    public static long MetricType(Metric metric) => metric.DataCase switch
    {
        Metric.DataOneofCase.Gauge => 1,
        Metric.DataOneofCase.Sum => 2,
        Metric.DataOneofCase.Histogram => 3,
        Metric.DataOneofCase.ExponentialHistogram => 4,
        Metric.DataOneofCase.Summary => 5,
        _ => 0,
    };

    private static Field? MetricField(string name) => name switch
    {
        "name" => Str(ctx => ctx.Metric.Name, (ctx, v) => ctx.Metric.Name = v),
        "description" => Str(ctx => ctx.Metric.Description, (ctx, v) => ctx.Metric.Description = v),
        "unit" => Str(ctx => ctx.Metric.Unit, (ctx, v) => ctx.Metric.Unit = v),
        "type" => new Field(ctx => OttlValue.Of(MetricType(ctx.Metric)), null),
        "aggregation_temporality" => Int(ctx => (long)(ctx.Metric.DataCase switch
            {
                Metric.DataOneofCase.Sum => ctx.Metric.Sum.AggregationTemporality,
                Metric.DataOneofCase.Histogram => ctx.Metric.Histogram.AggregationTemporality,
                Metric.DataOneofCase.ExponentialHistogram => ctx.Metric.ExponentialHistogram.AggregationTemporality,
                _ => AggregationTemporality.Unspecified,
            }),
            (ctx, v) =>
            {
                var temporality = (AggregationTemporality)v;
                switch (ctx.Metric.DataCase)
                {
                    case Metric.DataOneofCase.Sum: ctx.Metric.Sum.AggregationTemporality = temporality; break;
                    case Metric.DataOneofCase.Histogram: ctx.Metric.Histogram.AggregationTemporality = temporality; break;
                    case Metric.DataOneofCase.ExponentialHistogram: ctx.Metric.ExponentialHistogram.AggregationTemporality = temporality; break;
                }
            }),
        "is_monotonic" => new Field(ctx => ctx.Metric.DataCase == Metric.DataOneofCase.Sum ? OttlValue.Of(ctx.Metric.Sum.IsMonotonic) : OttlValue.False,
            (OttlContext ctx, in OttlValue v) =>
            {
                var monotonic = Expect(v, OttlType.Bool, "is_monotonic").Bool;
                if (ctx.Metric.DataCase == Metric.DataOneofCase.Sum) ctx.Metric.Sum.IsMonotonic = monotonic;
            }),
        _ => null,
    };

    private static Field? DataPointField(string name) => name switch
    {
        "attributes" => AttributesField(ctx => ctx.DataPoint switch
        {
            NumberDataPoint p => p.Attributes,
            HistogramDataPoint p => p.Attributes,
            ExponentialHistogramDataPoint p => p.Attributes,
            SummaryDataPoint p => p.Attributes,
            _ => throw new OttlRuntimeException("unknown data point type"),
        }),
        "start_time_unix_nano" => Nanos(ctx => PointTimes(ctx).Start, (ctx, v) => SetPointTime(ctx, v, start: true)),
        "time_unix_nano" => Nanos(ctx => PointTimes(ctx).Time, (ctx, v) => SetPointTime(ctx, v, start: false)),
        "start_time" => Time(ctx => PointTimes(ctx).Start, (ctx, v) => SetPointTime(ctx, v, start: true)),
        "time" => Time(ctx => PointTimes(ctx).Time, (ctx, v) => SetPointTime(ctx, v, start: false)),
        "value_double" => new Field(
            ctx => ctx.DataPoint is NumberDataPoint p ? OttlValue.Of(p.ValueCase == NumberDataPoint.ValueOneofCase.AsDouble ? p.AsDouble : 0.0) : OttlValue.Nil,
            (OttlContext ctx, in OttlValue v) => { if (ctx.DataPoint is NumberDataPoint p) p.AsDouble = Expect(v, OttlType.Double, "value_double").Double; }),
        "value_int" => new Field(
            ctx => ctx.DataPoint is NumberDataPoint p ? OttlValue.Of(p.ValueCase == NumberDataPoint.ValueOneofCase.AsInt ? p.AsInt : 0L) : OttlValue.Nil,
            (OttlContext ctx, in OttlValue v) => { if (ctx.DataPoint is NumberDataPoint p) p.AsInt = Expect(v, OttlType.Int, "value_int").Int; }),
        "flags" => UInt(ctx => ctx.DataPoint switch
            {
                NumberDataPoint p => p.Flags,
                HistogramDataPoint p => p.Flags,
                ExponentialHistogramDataPoint p => p.Flags,
                SummaryDataPoint p => p.Flags,
                _ => 0u,
            },
            (ctx, v) =>
            {
                switch (ctx.DataPoint)
                {
                    case NumberDataPoint p: p.Flags = v; break;
                    case HistogramDataPoint p: p.Flags = v; break;
                    case ExponentialHistogramDataPoint p: p.Flags = v; break;
                    case SummaryDataPoint p: p.Flags = v; break;
                }
            }),
        "count" => new Field(ctx => ctx.DataPoint switch
            {
                HistogramDataPoint p => OttlValue.Of((long)p.Count),
                ExponentialHistogramDataPoint p => OttlValue.Of((long)p.Count),
                SummaryDataPoint p => OttlValue.Of((long)p.Count),
                _ => OttlValue.Nil,
            },
            (OttlContext ctx, in OttlValue v) =>
            {
                var count = (ulong)NonNegative(Expect(v, OttlType.Int, "count").Int, "count");
                switch (ctx.DataPoint)
                {
                    case HistogramDataPoint p: p.Count = count; break;
                    case ExponentialHistogramDataPoint p: p.Count = count; break;
                    case SummaryDataPoint p: p.Count = count; break;
                }
            }),
        "sum" => new Field(ctx => ctx.DataPoint switch
            {
                HistogramDataPoint p => OttlValue.Of(p.Sum),
                ExponentialHistogramDataPoint p => OttlValue.Of(p.Sum),
                SummaryDataPoint p => OttlValue.Of(p.Sum),
                _ => OttlValue.Nil,
            },
            (OttlContext ctx, in OttlValue v) =>
            {
                var sum = Expect(v, OttlType.Double, "sum").Double;
                switch (ctx.DataPoint)
                {
                    case HistogramDataPoint p: p.Sum = sum; break;
                    case ExponentialHistogramDataPoint p: p.Sum = sum; break;
                    case SummaryDataPoint p: p.Sum = sum; break;
                }
            }),
        "bucket_counts" => new Field(
            ctx => ctx.DataPoint is HistogramDataPoint p ? OttlValue.Of(ToList(p.BucketCounts, c => Attributes.Int((long)c))) : OttlValue.Nil,
            (OttlContext ctx, in OttlValue v) =>
            {
                if (ctx.DataPoint is not HistogramDataPoint p) return;
                var list = Expect(v, OttlType.List, "bucket_counts").List;
                p.BucketCounts.Clear();
                foreach (var item in list)
                    p.BucketCounts.Add(item.ValueCase == AnyValue.ValueOneofCase.IntValue && item.IntValue >= 0
                        ? (ulong)item.IntValue : throw new OttlRuntimeException("bucket_counts must be a list of non-negative ints"));
            }),
        "explicit_bounds" => new Field(
            ctx => ctx.DataPoint is HistogramDataPoint p ? OttlValue.Of(ToList(p.ExplicitBounds, Attributes.Double)) : OttlValue.Nil,
            (OttlContext ctx, in OttlValue v) =>
            {
                if (ctx.DataPoint is not HistogramDataPoint p) return;
                var list = Expect(v, OttlType.List, "explicit_bounds").List;
                p.ExplicitBounds.Clear();
                foreach (var item in list)
                    p.ExplicitBounds.Add(item.ValueCase == AnyValue.ValueOneofCase.DoubleValue
                        ? item.DoubleValue : throw new OttlRuntimeException("explicit_bounds must be a list of doubles"));
            }),
        "scale" => Int(ctx => ctx.DataPoint is ExponentialHistogramDataPoint p ? p.Scale : 0,
            (ctx, v) => { if (ctx.DataPoint is ExponentialHistogramDataPoint p) p.Scale = checked((int)v); }),
        "zero_count" => Int(ctx => ctx.DataPoint is ExponentialHistogramDataPoint p ? (long)p.ZeroCount : 0,
            (ctx, v) => { if (ctx.DataPoint is ExponentialHistogramDataPoint p) p.ZeroCount = (ulong)NonNegative(v, "zero_count"); }),
        _ => null,
    };

    private static (ulong Start, ulong Time) PointTimes(OttlContext ctx) => ctx.DataPoint switch
    {
        NumberDataPoint p => (p.StartTimeUnixNano, p.TimeUnixNano),
        HistogramDataPoint p => (p.StartTimeUnixNano, p.TimeUnixNano),
        ExponentialHistogramDataPoint p => (p.StartTimeUnixNano, p.TimeUnixNano),
        SummaryDataPoint p => (p.StartTimeUnixNano, p.TimeUnixNano),
        _ => (0, 0),
    };

    private static void SetPointTime(OttlContext ctx, ulong value, bool start)
    {
        switch (ctx.DataPoint)
        {
            case NumberDataPoint p: if (start) p.StartTimeUnixNano = value; else p.TimeUnixNano = value; break;
            case HistogramDataPoint p: if (start) p.StartTimeUnixNano = value; else p.TimeUnixNano = value; break;
            case ExponentialHistogramDataPoint p: if (start) p.StartTimeUnixNano = value; else p.TimeUnixNano = value; break;
            case SummaryDataPoint p: if (start) p.StartTimeUnixNano = value; else p.TimeUnixNano = value; break;
        }
    }

    private static Field? LogField(string name) => name switch
    {
        "body" => new Field(ctx => OttlValue.FromAny(ctx.Log.Body),
            (OttlContext ctx, in OttlValue v) => v.WriteTo(ctx.Log.Body ??= new AnyValue()),
            ctx => ctx.Log.Body ??= new AnyValue()),
        "body.string" => new Field(ctx => OttlValue.Of(ctx.Log.Body.AsString()),
            (OttlContext ctx, in OttlValue v) => (ctx.Log.Body ??= new AnyValue()).StringValue = Expect(v, OttlType.String, "body.string").String),
        "attributes" => AttributesField(ctx => ctx.Log.Attributes),
        "severity_number" => Int(ctx => (long)ctx.Log.SeverityNumber, (ctx, v) => ctx.Log.SeverityNumber = (OtelAi.Otlp.Proto.Logs.V1.SeverityNumber)v),
        "severity_text" => Str(ctx => ctx.Log.SeverityText, (ctx, v) => ctx.Log.SeverityText = v),
        "time_unix_nano" => Nanos(ctx => ctx.Log.TimeUnixNano, (ctx, v) => ctx.Log.TimeUnixNano = v),
        "observed_time_unix_nano" => Nanos(ctx => ctx.Log.ObservedTimeUnixNano, (ctx, v) => ctx.Log.ObservedTimeUnixNano = v),
        "time" => Time(ctx => ctx.Log.TimeUnixNano, (ctx, v) => ctx.Log.TimeUnixNano = v),
        "observed_time" => Time(ctx => ctx.Log.ObservedTimeUnixNano, (ctx, v) => ctx.Log.ObservedTimeUnixNano = v),
        "trace_id" => Id(ctx => ctx.Log.TraceId, (ctx, v) => ctx.Log.TraceId = v, 16),
        "trace_id.string" => HexId(ctx => ctx.Log.TraceId, (ctx, v) => ctx.Log.TraceId = v, 16),
        "span_id" => Id(ctx => ctx.Log.SpanId, (ctx, v) => ctx.Log.SpanId = v, 8),
        "span_id.string" => HexId(ctx => ctx.Log.SpanId, (ctx, v) => ctx.Log.SpanId = v, 8),
        "flags" => UInt(ctx => ctx.Log.Flags, (ctx, v) => ctx.Log.Flags = v),
        "event_name" => Str(ctx => ctx.Log.EventName, (ctx, v) => ctx.Log.EventName = v),
        "dropped_attributes_count" => UInt(ctx => ctx.Log.DroppedAttributesCount, (ctx, v) => ctx.Log.DroppedAttributesCount = v),
        _ => null,
    };

    // ---- field kinds ----

    private static Field AttributesField(Func<OttlContext, RepeatedField<KeyValue>> attributes) => new(
        ctx => OttlValue.Of(attributes(ctx)),
        (OttlContext ctx, in OttlValue v) => ReplaceMap(attributes(ctx), v, "attributes"));

    private static void ReplaceMap(RepeatedField<KeyValue> target, in OttlValue value, string what)
    {
        var source = Expect(value, OttlType.Map, what).Map;
        if (ReferenceEquals(source, target)) return;
        var copy = source.Select(kv => kv.Clone()).ToList();
        target.Clear();
        target.Add(copy);
    }

    private static Field Str(Func<OttlContext, string> get, Action<OttlContext, string> set) => new(
        ctx => OttlValue.Of(get(ctx)),
        (OttlContext ctx, in OttlValue v) => set(ctx, Expect(v, OttlType.String, "value").String));

    private static Field Int(Func<OttlContext, long> get, Action<OttlContext, long> set) => new(
        ctx => OttlValue.Of(get(ctx)),
        (OttlContext ctx, in OttlValue v) => set(ctx, Expect(v, OttlType.Int, "value").Int));

    private static Field UInt(Func<OttlContext, uint> get, Action<OttlContext, uint> set) => new(
        ctx => OttlValue.Of((long)get(ctx)),
        (OttlContext ctx, in OttlValue v) => set(ctx, checked((uint)NonNegative(Expect(v, OttlType.Int, "value").Int, "value"))));

    private static Field Nanos(Func<OttlContext, ulong> get, Action<OttlContext, ulong> set) => new(
        ctx => OttlValue.Of((long)get(ctx)),
        (OttlContext ctx, in OttlValue v) => set(ctx, (ulong)NonNegative(Expect(v, OttlType.Int, "value").Int, "timestamp")));

    private static Field Time(Func<OttlContext, ulong> get, Action<OttlContext, ulong> set) => new(
        ctx => OttlValue.TimeOf((long)get(ctx)),
        (OttlContext ctx, in OttlValue v) => set(ctx, (ulong)NonNegative(Expect(v, OttlType.Time, "time").Int, "time")));

    private static Field Id(Func<OttlContext, ByteString> get, Action<OttlContext, ByteString> set, int length) => new(
        ctx => OttlValue.Of(get(ctx)),
        (OttlContext ctx, in OttlValue v) =>
        {
            var bytes = Expect(v, OttlType.Bytes, "id").Bytes;
            if (bytes.Length != length) throw new OttlRuntimeException($"an id must be {length} bytes, got {bytes.Length}");
            set(ctx, bytes);
        });

    private static Field HexId(Func<OttlContext, ByteString> get, Action<OttlContext, ByteString> set, int length) => new(
        ctx => OttlValue.Of(HexOf(get(ctx), length)),
        (OttlContext ctx, in OttlValue v) =>
        {
            var text = Expect(v, OttlType.String, "id string").String;
            if (text.Length != length * 2 || !text.All(char.IsAsciiHexDigit))
                throw new OttlRuntimeException($"\"{text}\" is not a {length * 2}-digit hex id");
            set(ctx, ByteString.CopyFrom(Convert.FromHexString(text)));
        });

    /// <summary>Lower-case hex as otelcol prints ids; an empty id prints as zeros.</summary>
    public static string HexOf(ByteString id, int length) =>
        id.IsEmpty ? new string('0', length * 2) : Convert.ToHexStringLower(id.Span);

    private static RepeatedField<AnyValue> ToList<T>(IEnumerable<T> items, Func<T, AnyValue> convert)
    {
        var list = new RepeatedField<AnyValue>();
        foreach (var item in items) list.Add(convert(item));
        return list;
    }

    public static ref readonly OttlValue Expect(in OttlValue value, OttlType type, string what)
    {
        if (value.Type != type)
            throw new OttlRuntimeException($"{what} expects a {type.ToString().ToLowerInvariant()} but got {value.TypeName} ({value})");
        return ref value;
    }

    private static long NonNegative(long value, string what) =>
        value >= 0 ? value : throw new OttlRuntimeException($"{what} cannot be negative ({value})");

    // ---- index chains ----

    /// <summary>The hot case, <c>attributes["key"]</c>: one literal key into a map field, no key delegate.</summary>
    private static CompiledPath SingleKeyPath(Field field, string key, string text)
    {
        var root = field.Get;
        return new CompiledPath(
            ctx =>
            {
                var container = root(ctx);
                return container.Type == OttlType.Map ? OttlValue.FromAny(container.Map.Get(key))
                    : container.IsNil ? container
                    : throw new OttlRuntimeException($"a {container.TypeName} cannot be indexed with a string key (\"{key}\")");
            },
            field.Set is null ? null : (OttlContext ctx, in OttlValue value) =>
            {
                var container = root(ctx);
                if (container.Type != OttlType.Map)
                    throw new OttlRuntimeException($"a {container.TypeName} cannot be indexed with a string key (\"{key}\")");
                var map = container.Map;
                var index = map.IndexOf(key);
                if (index >= 0) value.WriteTo(map[index].Value ??= new AnyValue());
                else map.Add(new KeyValue { Key = key, Value = value.ToAny() });
            },
            text);
    }

    private static OttlGetter IndexedGetter(OttlGetter root, OttlGetter[] keys) => ctx =>
    {
        var value = root(ctx);
        foreach (var key in keys)
        {
            if (value.IsNil) return value;
            value = Index(value, key(ctx));
        }
        return value;
    };

    private static OttlValue Index(in OttlValue container, in OttlValue key)
    {
        switch (container.Type)
        {
            case OttlType.Map when key.Type == OttlType.String:
                return OttlValue.FromAny(container.Map.Get(key.String));
            case OttlType.List when key.Type == OttlType.Int:
                var list = container.List;
                if (key.Int < 0 || key.Int >= list.Count)
                    throw new OttlRuntimeException($"index {key.Int} out of bounds (list length {list.Count})");
                return OttlValue.FromAny(list[(int)key.Int]);
            default:
                throw new OttlRuntimeException($"a {container.TypeName} cannot be indexed with a {key.TypeName} key ({key})");
        }
    }

    private static OttlSetter IndexedSetter(Field field, OttlGetter[] keys) => (OttlContext ctx, in OttlValue value) =>
    {
        var container = field.Get(ctx);
        var firstKey = keys[0](ctx);
        if (container.IsNil || (container.Type is not (OttlType.Map or OttlType.List) && field.AnyHolder is not null))
        {
            // A body that is empty (or a scalar being replaced) becomes a map or list on first keyed write.
            var holder = field.AnyHolder ?? throw new OttlRuntimeException("cannot index into nil");
            if (holder(ctx).ValueCase != AnyValue.ValueOneofCase.None)
                throw new OttlRuntimeException($"a {container.TypeName} cannot be indexed with a {firstKey.TypeName} key");
            holder(ctx).KvlistValue = new KeyValueList();
            container = field.Get(ctx);
        }
        var slot = Slot(container, firstKey);
        for (var i = 1; i < keys.Length; i++)
        {
            var key = keys[i](ctx);
            if (slot.ValueCase == AnyValue.ValueOneofCase.None) slot.KvlistValue = new KeyValueList();
            slot = Slot(OttlValue.FromAny(slot), key);
        }
        value.WriteTo(slot);
    };

    // The AnyValue at container[key], added to the container when missing (maps only).
    private static AnyValue Slot(in OttlValue container, in OttlValue key)
    {
        switch (container.Type)
        {
            case OttlType.Map when key.Type == OttlType.String:
                var map = container.Map;
                var index = map.IndexOf(key.String);
                if (index >= 0) return map[index].Value ??= new AnyValue();
                var added = new AnyValue();
                map.Add(new KeyValue { Key = key.String, Value = added });
                return added;
            case OttlType.List when key.Type == OttlType.Int:
                var list = container.List;
                if (key.Int < 0 || key.Int >= list.Count)
                    throw new OttlRuntimeException($"index {key.Int} out of bounds (list length {list.Count})");
                return list[(int)key.Int];
            default:
                throw new OttlRuntimeException($"a {container.TypeName} cannot be indexed with a {key.TypeName} key ({key})");
        }
    }
}
