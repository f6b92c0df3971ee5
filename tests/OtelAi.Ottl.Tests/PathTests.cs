using Google.Protobuf;
using OtelAi.Otlp;
using OtelAi.Processors.Ottl;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Metrics.V1;
using OtelAi.Otlp.Proto.Trace.V1;
using static OtelAi.Ottl.Tests.OttlTestContext;

namespace OtelAi.Ottl.Tests;

public class PathTests
{
    private const long Start = 1_700_000_000_000_000_000L;

    public static TheoryData<string, string> SpanReads => new()
    {
        { "name", "POST /v1/models/llama-0/infer" },
        { "span.name", "POST /v1/models/llama-0/infer" },
        { "kind", "2" },
        { "kind.string", "Server" },
        { "status.code", "2" },
        { "status.message", "boom" },
        { "trace_state", "vendor=x" },
        { "start_time_unix_nano", Start.ToString() },
        { "end_time_unix_nano", (Start + 25_000_000).ToString() },
        { "UnixNano(start_time)", Start.ToString() },
        { "UnixMilli(end_time)", ((Start + 25_000_000) / 1_000_000).ToString() },
        { "flags", "257" },
        { "dropped_attributes_count", "0" },
        { "dropped_events_count", "0" },
        { "dropped_links_count", "0" },
        { "attributes[\"http.request.method\"]", "POST" },
        { "attributes[\"http.response.status_code\"]", "200" },
        { "attributes[\"ratio\"]", "0.5" },
        { "attributes[\"ok\"]", "true" },
        { "Len(attributes)", "4" },
        { "resource.attributes[\"service.name\"]", "inference-api" },
        { "resource.dropped_attributes_count", "0" },
        { "instrumentation_scope.name", "test.scope" },
        { "instrumentation_scope.version", "1.2.3" },
        { "scope.name", "test.scope" },
        { "Len(instrumentation_scope.attributes)", "0" },
        { "parent_span_id.string", "0000000000000000" },
        { "Len(trace_id.string)", "32" },
        { "Len(span_id.string)", "16" },
    };

    [Theory]
    [MemberData(nameof(SpanReads))]
    public void Span_context_paths_read(string path, string expected)
    {
        var (_, context) = Span();
        Assert.Equal(expected, Value(context, path).AsString());
    }

    [Fact]
    public void Span_ids_read_as_bytes_and_hex()
    {
        var (_, context) = Span();
        Assert.Equal(context.Span.TraceId, Value(context, "trace_id")!.BytesValue);
        Assert.Equal(Convert.ToHexStringLower(context.Span.SpanId.ToByteArray()), Value(context, "span_id.string")!.StringValue);
        Assert.True(Eval(context, $"trace_id == TraceID(0x{Convert.ToHexStringLower(context.Span.TraceId.ToByteArray())})"));
        Assert.True(Eval(context, $"span_id == SpanID(0x{Convert.ToHexStringLower(context.Span.SpanId.ToByteArray())})"));
        var (_, child) = Span(1);
        Assert.Equal(Convert.ToHexStringLower(child.Span.ParentSpanId.ToByteArray()), Value(child, "parent_span_id.string")!.StringValue);
        Assert.Equal(child.Span.ParentSpanId, Value(child, "parent_span_id")!.BytesValue);
    }

    [Fact]
    public void Span_context_paths_write()
    {
        var (_, context) = Span();
        Run(context, "set(name, \"renamed\")");
        Run(context, "set(kind, SPAN_KIND_CLIENT)");
        Run(context, "set(status.code, STATUS_CODE_OK)");
        Run(context, "set(status.message, \"fine\")");
        Run(context, "set(trace_state, \"a=b\")");
        Run(context, "set(start_time_unix_nano, 5)");
        Run(context, "set(end_time, Unix(1, 500))");
        Run(context, "set(trace_id.string, \"0102030405060708090a0b0c0d0e0f10\")");
        Run(context, "set(span_id, SpanID(0x0102030405060708))");
        Run(context, "set(parent_span_id.string, \"1112131415161718\")");
        Run(context, "set(dropped_attributes_count, 3)");
        Run(context, "set(flags, 1)");
        Run(context, "set(resource.attributes[\"deployment.environment\"], \"prod\")");
        Run(context, "set(instrumentation_scope.version, \"2.0\")");
        Run(context, "set(scope.attributes[\"s\"], 1)");

        var span = context.Span;
        Assert.Equal("renamed", span.Name);
        Assert.Equal(OtelAi.Otlp.Proto.Trace.V1.Span.Types.SpanKind.Client, span.Kind);
        Assert.Equal(OtelAi.Otlp.Proto.Trace.V1.Status.Types.StatusCode.Ok, span.Status.Code);
        Assert.Equal("fine", span.Status.Message);
        Assert.Equal("a=b", span.TraceState);
        Assert.Equal(5UL, span.StartTimeUnixNano);
        Assert.Equal(1_000_000_500UL, span.EndTimeUnixNano);
        Assert.Equal("0102030405060708090a0b0c0d0e0f10", Convert.ToHexStringLower(span.TraceId.ToByteArray()));
        Assert.Equal("0102030405060708", Convert.ToHexStringLower(span.SpanId.ToByteArray()));
        Assert.Equal("1112131415161718", Convert.ToHexStringLower(span.ParentSpanId.ToByteArray()));
        Assert.Equal(3u, span.DroppedAttributesCount);
        Assert.Equal(1u, span.Flags);
        Assert.Equal("prod", context.Resource.Attributes.Get("deployment.environment")!.StringValue);
        Assert.Equal("2.0", context.Scope.Version);
        Assert.Equal(1, context.Scope.Attributes.Get("s")!.IntValue);
    }

    [Fact]
    public void Typed_fields_reject_wrong_types_at_run_time()
    {
        var (_, context) = Span();
        Assert.Throws<OttlRuntimeException>(() => Run(context, "set(name, 1)"));
        Assert.Throws<OttlRuntimeException>(() => Run(context, "set(kind, \"server\")"));
        Assert.Throws<OttlRuntimeException>(() => Run(context, "set(trace_id.string, \"zz\")"));
        Assert.Throws<OttlRuntimeException>(() => Run(context, "set(span_id, 0x01)"));
        Assert.Throws<OttlRuntimeException>(() => Run(context, "set(start_time_unix_nano, -1)"));
        Assert.Equal("POST /v1/models/llama-0/infer", context.Span.Name);
    }

    [Fact]
    public void Nested_map_and_list_indexing_reads_and_writes()
    {
        var (_, context) = Span();
        Run(context, "set(attributes[\"req\"], {\"headers\": {\"x-model\": \"llama\"}, \"tags\": [\"a\", \"b\"]})");
        Assert.Equal("llama", Value(context, "attributes[\"req\"][\"headers\"][\"x-model\"]")!.StringValue);
        Assert.Equal("b", Value(context, "attributes[\"req\"][\"tags\"][1]")!.StringValue);
        Run(context, "set(attributes[\"req\"][\"tags\"][0], \"z\")");
        Run(context, "set(attributes[\"req\"][\"new\"][\"deep\"], 1)");
        var req = context.Span.Attributes.Get("req")!.KvlistValue.Values;
        Assert.Equal("z", req.Get("tags")!.ArrayValue.Values[0].StringValue);
        Assert.Equal(1, req.Get("new")!.KvlistValue.Values.Get("deep")!.IntValue);
        // Missing keys read as nil; indexing a string is an error; out of range is an error.
        Assert.True(Eval(context, "attributes[\"req\"][\"nope\"][\"deeper\"] == nil"));
        Assert.Throws<OttlRuntimeException>(() => Eval(context, "attributes[\"http.request.method\"][\"x\"] == nil"));
        Assert.Throws<OttlRuntimeException>(() => Eval(context, "attributes[\"req\"][\"tags\"][5] == nil"));
        // Keys can be computed from other paths.
        Run(context, "set(attributes[attributes[\"http.request.method\"]], \"by-key\")");
        Assert.Equal("by-key", context.Span.Attributes.Get("POST")!.StringValue);
    }

    [Fact]
    public void Setting_a_map_copies_it_so_later_edits_do_not_leak()
    {
        var (_, context) = Span();
        Run(context, "set(attributes[\"copy\"], resource.attributes)");
        Run(context, "delete_key(attributes[\"copy\"], \"host.name\")");
        Assert.NotNull(context.Resource.Attributes.Get("host.name"));
        Assert.Null(context.Span.Attributes.Get("copy")!.KvlistValue.Values.Get("host.name"));
    }

    [Fact]
    public void Span_event_context_paths()
    {
        var (_, context) = Span();
        const OttlContextKind kind = OttlContextKind.SpanEvent;
        Assert.Equal("token", Value(context, "name", kind)!.StringValue);
        Assert.Equal(Start + 1000, Value(context, "time_unix_nano", kind)!.IntValue);
        Assert.Equal(Start + 1000, Value(context, "UnixNano(time)", kind)!.IntValue);
        Assert.Equal(0, Value(context, "attributes[\"n\"]", kind)!.IntValue);
        Assert.Equal("POST /v1/models/llama-0/infer", Value(context, "span.name", kind)!.StringValue);
        Assert.Equal("inference-api", Value(context, "resource.attributes[\"service.name\"]", kind)!.StringValue);
        Run(context, "set(name, \"first-token\")", kind);
        Run(context, "set(attributes[\"span\"], span.name)", kind);
        Run(context, "set(time_unix_nano, 9)", kind);
        Run(context, "set(dropped_attributes_count, 2)", kind);
        Assert.Equal("first-token", context.SpanEvent.Name);
        Assert.Equal("POST /v1/models/llama-0/infer", context.SpanEvent.Attributes.Get("span")!.StringValue);
        Assert.Equal(9UL, context.SpanEvent.TimeUnixNano);
        Assert.Equal(2u, context.SpanEvent.DroppedAttributesCount);
    }

    [Fact]
    public void Resource_and_scope_contexts()
    {
        var (_, context) = Span();
        Assert.Equal("node-1", Value(context, "attributes[\"host.name\"]", OttlContextKind.Resource)!.StringValue);
        Run(context, "set(dropped_attributes_count, 4)", OttlContextKind.Resource);
        Assert.Equal(4u, context.Resource.DroppedAttributesCount);
        Assert.Equal("test.scope", Value(context, "name", OttlContextKind.Scope)!.StringValue);
        Assert.Equal("inference-api", Value(context, "resource.attributes[\"service.name\"]", OttlContextKind.Scope)!.StringValue);
        Run(context, "set(name, \"s2\")", OttlContextKind.Scope);
        Run(context, "set(version, \"v2\")", OttlContextKind.Scope);
        Run(context, "set(attributes[\"a\"], \"b\")", OttlContextKind.Scope);
        Run(context, "set(dropped_attributes_count, 1)", OttlContextKind.Scope);
        Assert.Equal(("s2", "v2", "b", 1u), (context.Scope.Name, context.Scope.Version, context.Scope.Attributes.Get("a")!.StringValue, context.Scope.DroppedAttributesCount));
        // A resource context cannot see spans.
        Assert.Throws<OttlCompileException>(() => OttlLanguage.CompileCondition("span.name == \"x\"", OttlContextKind.Resource));
    }

    [Fact]
    public void Metric_context_paths()
    {
        var (data, context) = DataPoint(1);
        const OttlContextKind kind = OttlContextKind.Metric;
        Assert.Equal("requests", Value(context, "name", kind)!.StringValue);
        Assert.Equal("requests", Value(context, "metric.name", kind)!.StringValue);
        Assert.Equal("{request}", Value(context, "unit", kind)!.StringValue);
        Assert.True(Eval(context, "type == METRIC_DATA_TYPE_SUM", kind));
        Assert.True(Eval(context, "aggregation_temporality == AGGREGATION_TEMPORALITY_CUMULATIVE", kind));
        Assert.True(Eval(context, "is_monotonic == true", kind));
        Run(context, "set(description, \"Sum\") where type == METRIC_DATA_TYPE_SUM", kind);
        Run(context, "set(unit, \"1\")", kind);
        Run(context, "set(aggregation_temporality, AGGREGATION_TEMPORALITY_DELTA)", kind);
        Run(context, "set(is_monotonic, false)", kind);
        Run(context, "set(name, \"requests.total\")", kind);
        var metric = data.ResourceMetrics[0].ScopeMetrics[0].Metrics[1];
        Assert.Equal(("Sum", "1", "requests.total"), (metric.Description, metric.Unit, metric.Name));
        Assert.Equal(AggregationTemporality.Delta, metric.Sum.AggregationTemporality);
        Assert.False(metric.Sum.IsMonotonic);
        var (_, gauge) = DataPoint(0);
        Assert.True(Eval(gauge, "metric.type == METRIC_DATA_TYPE_GAUGE", kind));
        var (_, histogram) = DataPoint(2);
        Assert.True(Eval(histogram, "type == METRIC_DATA_TYPE_HISTOGRAM", kind));
    }

    [Fact]
    public void Data_point_context_paths()
    {
        const OttlContextKind kind = OttlContextKind.DataPoint;
        var (_, gauge) = DataPoint(0);
        Assert.Equal(1000, Value(gauge, "value_int", kind)!.IntValue);
        Assert.Equal(0.0, Value(gauge, "value_double", kind)!.DoubleValue);
        Assert.Equal("gpu.memory.used", Value(gauge, "metric.name", kind)!.StringValue);
        Assert.Equal(0, Value(gauge, "attributes[\"gpu\"]", kind)!.IntValue);
        Assert.Equal(Start, Value(gauge, "time_unix_nano", kind)!.IntValue);
        Run(gauge, "set(value_int, value_int * 2)", kind);
        Run(gauge, "set(attributes[\"unit\"], metric.unit)", kind);
        Run(gauge, "set(flags, 1)", kind);
        var point = (NumberDataPoint)gauge.DataPoint;
        Assert.Equal(2000, point.AsInt);
        Assert.Equal("MiBy", point.Attributes.Get("unit")!.StringValue);
        Assert.Equal(1u, point.Flags);

        var (_, sum) = DataPoint(1);
        Assert.Equal(1.5, Value(sum, "value_double", kind)!.DoubleValue);
        Assert.Equal(Start, Value(sum, "start_time_unix_nano", kind)!.IntValue);
        Run(sum, "set(value_double, value_double * 2.0)", kind);
        Run(sum, "set(start_time_unix_nano, 1)", kind);
        Run(sum, "set(time, Unix(2))", kind);
        var sumPoint = (NumberDataPoint)sum.DataPoint;
        Assert.Equal((3.0, 1UL, 2_000_000_000UL), (sumPoint.AsDouble, sumPoint.StartTimeUnixNano, sumPoint.TimeUnixNano));

        var (_, histogram) = DataPoint(2);
        Assert.Equal(6, Value(histogram, "count", kind)!.IntValue);
        Assert.Equal(12.5, Value(histogram, "sum", kind)!.DoubleValue);
        Assert.Equal([1L, 2L, 3L], Value(histogram, "bucket_counts", kind)!.ArrayValue.Values.Select(v => v.IntValue));
        Assert.Equal([1.0, 5.0], Value(histogram, "explicit_bounds", kind)!.ArrayValue.Values.Select(v => v.DoubleValue));
        Assert.Null(Value(histogram, "value_int", kind));
        Run(histogram, "set(count, 7)", kind);
        Run(histogram, "set(sum, 13.0)", kind);
        Run(histogram, "set(bucket_counts, [1, 2, 4])", kind);
        Run(histogram, "set(explicit_bounds, [2.0, 6.0])", kind);
        var h = (HistogramDataPoint)histogram.DataPoint;
        Assert.Equal((7UL, 13.0), (h.Count, h.Sum));
        Assert.Equal([1UL, 2UL, 4UL], h.BucketCounts);
        Assert.Equal([2.0, 6.0], h.ExplicitBounds);
    }

    [Fact]
    public void Log_context_paths()
    {
        const OttlContextKind kind = OttlContextKind.Log;
        var (_, context) = Log();
        var log = context.Log;
        Assert.Equal("request 0 served", Value(context, "body", kind)!.StringValue);
        Assert.Equal("request 0 served", Value(context, "log.body", kind)!.StringValue);
        Assert.Equal(9, Value(context, "severity_number", kind)!.IntValue);
        Assert.True(Eval(context, "severity_number == SEVERITY_NUMBER_INFO", kind));
        Assert.Equal("INFO", Value(context, "severity_text", kind)!.StringValue);
        Assert.Equal(Start, Value(context, "time_unix_nano", kind)!.IntValue);
        Assert.Equal(Start + 1, Value(context, "observed_time_unix_nano", kind)!.IntValue);
        Assert.Equal(Start + 1, Value(context, "UnixNano(observed_time)", kind)!.IntValue);
        Assert.Equal("000102030405060708090a0b0c0d0e0f", Value(context, "trace_id.string", kind)!.StringValue);
        Assert.Equal("000306090c0f1215", Value(context, "span_id.string", kind)!.StringValue);
        Assert.Equal(log.TraceId, Value(context, "trace_id", kind)!.BytesValue);
        Assert.Equal(1, Value(context, "flags", kind)!.IntValue);
        Assert.Equal(0, Value(context, "attributes[\"i\"]", kind)!.IntValue);
        Assert.Equal("", Value(context, "event_name", kind)!.StringValue);

        Run(context, "set(body, {\"msg\": \"hi\"})", kind);
        Assert.Equal("hi", Value(context, "body[\"msg\"]", kind)!.StringValue);
        Run(context, "set(body[\"level\"], \"warn\")", kind);
        Assert.Equal("{\"msg\":\"hi\",\"level\":\"warn\"}", Value(context, "body.string", kind)!.StringValue);
        Run(context, "set(severity_number, SEVERITY_NUMBER_WARN)", kind);
        Run(context, "set(severity_text, \"WARN\")", kind);
        Run(context, "set(event_name, \"inference.done\")", kind);
        Run(context, "set(time, Unix(3))", kind);
        Run(context, "set(observed_time_unix_nano, 4)", kind);
        Run(context, "set(trace_id.string, \"0102030405060708090a0b0c0d0e0f10\")", kind);
        Run(context, "set(span_id.string, \"0102030405060708\")", kind);
        Run(context, "set(flags, 0)", kind);
        Run(context, "set(dropped_attributes_count, 1)", kind);
        Assert.Equal(OtelAi.Otlp.Proto.Logs.V1.SeverityNumber.Warn, log.SeverityNumber);
        Assert.Equal(("WARN", "inference.done", 3_000_000_000UL, 4UL, 0u, 1u),
            (log.SeverityText, log.EventName, log.TimeUnixNano, log.ObservedTimeUnixNano, log.Flags, log.DroppedAttributesCount));
        Assert.Equal("0102030405060708090a0b0c0d0e0f10", Convert.ToHexStringLower(log.TraceId.ToByteArray()));
        Assert.Equal("0102030405060708", Convert.ToHexStringLower(log.SpanId.ToByteArray()));

        // An empty body becomes a map on the first keyed write.
        log.Body = null;
        Run(context, "set(body[\"k\"], 1)", kind);
        Assert.Equal(1, log.Body!.KvlistValue.Values.Get("k")!.IntValue);
        Run(context, "set(body.string, \"plain\")", kind);
        Assert.Equal("plain", log.Body.StringValue);
    }

    [Fact]
    public void Cache_is_per_item_scratch_space()
    {
        var (_, context) = Span();
        Run(context, "set(cache[\"a\"], name)");
        Assert.True(Eval(context, "cache[\"a\"] == name"));
        context.ResetCache(OttlContextKind.Span);
        Assert.True(Eval(context, "cache[\"a\"] == nil"));
    }
}
