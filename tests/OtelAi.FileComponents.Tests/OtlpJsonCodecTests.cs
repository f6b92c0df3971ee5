using System.Buffers;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using OtelAi.Otlp.Json;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Logs.V1;
using OtelAi.Otlp.Proto.Metrics.V1;
using RpcStatus = OtelAi.Otlp.Proto.Rpc.Status;
using RetryInfo = OtelAi.Otlp.Proto.Rpc.RetryInfo;
using OtelAi.Otlp.Proto.Trace.V1;
using OtelAi.TestSupport;

namespace OtelAi.FileComponents.Tests;

public sealed class OtlpJsonCodecTests
{
    private static T RoundTrip<T>(T message) where T : class, IMessage<T>, new()
    {
        var buffer = new ArrayBufferWriter<byte>();
        OtlpJson.Write(message, buffer);
        return OtlpJson.Parse<T>(buffer.WrittenSpan);
    }

    [Fact]
    public void Traces_round_trip_unchanged()
    {
        var traces = SampleData.Traces(25);
        Assert.Equal(traces, RoundTrip(traces));
    }

    [Fact]
    public void Metrics_round_trip_unchanged_including_every_point_kind()
    {
        var metrics = SampleData.Metrics(30);
        var scope = metrics.ResourceMetrics[0].ScopeMetrics[0];
        scope.Metrics.Add(new Metric
        {
            Name = "tokens",
            ExponentialHistogram = new ExponentialHistogram
            {
                AggregationTemporality = AggregationTemporality.Delta,
                DataPoints =
                {
                    new ExponentialHistogramDataPoint
                    {
                        Scale = -2, ZeroCount = 3, Count = 10, Sum = 0, ZeroThreshold = 1e-9,
                        Positive = new ExponentialHistogramDataPoint.Types.Buckets { Offset = -3, BucketCounts = { 1, 0, 6 } },
                        Negative = new ExponentialHistogramDataPoint.Types.Buckets { Offset = 2, BucketCounts = { ulong.MaxValue } },
                        Exemplars = { new Exemplar { AsInt = 0, TimeUnixNano = 5, TraceId = ByteString.CopyFrom(new byte[16] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 }), SpanId = ByteString.CopyFrom(new byte[8] { 9, 8, 7, 6, 5, 4, 3, 2 }) } },
                    },
                },
            },
        });
        scope.Metrics.Add(new Metric
        {
            Name = "latency.summary",
            Summary = new Summary { DataPoints = { new SummaryDataPoint { Count = 4, Sum = double.NaN, QuantileValues = { new SummaryDataPoint.Types.ValueAtQuantile { Quantile = 0.99, Value = double.PositiveInfinity } } } } },
        });
        Assert.Equal(metrics, RoundTrip(metrics));
    }

    [Fact]
    public void Logs_round_trip_unchanged_including_nested_any_values()
    {
        var logs = SampleData.Logs(12);
        logs.ResourceLogs[0].ScopeLogs[0].LogRecords[0].Body = new AnyValue
        {
            KvlistValue = new KeyValueList
            {
                Values =
                {
                    new KeyValue { Key = "zero", Value = new AnyValue { IntValue = 0 } },
                    new KeyValue { Key = "empty", Value = new AnyValue { StringValue = "" } },
                    new KeyValue { Key = "no", Value = new AnyValue { BoolValue = false } },
                    new KeyValue { Key = "raw", Value = new AnyValue { BytesValue = ByteString.CopyFrom(0, 255, 7) } },
                    new KeyValue { Key = "list", Value = new AnyValue { ArrayValue = new ArrayValue { Values = { new AnyValue { DoubleValue = -0.0 }, new AnyValue() } } } },
                },
            },
        };
        var decoded = RoundTrip(logs);
        Assert.Equal(logs, decoded);
        // The oneof keeps its case even when the value is the default (intValue 0 is not "unset").
        Assert.Equal(AnyValue.ValueOneofCase.IntValue, decoded.ResourceLogs[0].ScopeLogs[0].LogRecords[0].Body.KvlistValue.Values[0].Value.ValueCase);
    }

    [Fact]
    public void Responses_and_status_round_trip_with_partial_success_and_retry_info()
    {
        var traces = new ExportTraceServiceResponse { PartialSuccess = new ExportTracePartialSuccess { RejectedSpans = 3, ErrorMessage = "bad spans" } };
        var metrics = new ExportMetricsServiceResponse { PartialSuccess = new ExportMetricsPartialSuccess { RejectedDataPoints = 4 } };
        var logs = new ExportLogsServiceResponse { PartialSuccess = new ExportLogsPartialSuccess { RejectedLogRecords = 5 } };
        var status = new RpcStatus { Code = 14, Message = "try later", Details = { Any.Pack(new RetryInfo { RetryDelay = new Duration { Seconds = 1, Nanos = 500_000_000 } }) } };
        Assert.Equal(traces, RoundTrip(traces));
        Assert.Equal(metrics, RoundTrip(metrics));
        Assert.Equal(logs, RoundTrip(logs));
        Assert.Equal(status, RoundTrip(status));

        Assert.Equal("{\"partialSuccess\":{\"rejectedSpans\":\"3\",\"errorMessage\":\"bad spans\"}}", OtlpJson.ToJson(traces));
        Assert.Equal(
            "{\"code\":14,\"message\":\"try later\",\"details\":[{\"@type\":\"type.googleapis.com/google.rpc.RetryInfo\",\"retryDelay\":\"1.500s\"}]}",
            OtlpJson.ToJson(status));
        // An empty partial_success means full success: the body is just {}.
        Assert.Equal("{}", OtlpJson.ToJson(new ExportTraceServiceResponse()));
    }

    [Fact]
    public void Status_details_of_unknown_types_are_kept_as_base64()
    {
        var status = new RpcStatus { Code = 3, Details = { new Any { TypeUrl = "type.googleapis.com/google.rpc.BadRequest", Value = ByteString.CopyFromUtf8("opaque") } } };
        Assert.Equal(status, RoundTrip(status));
        // "@type" may follow the payload's fields.
        var parsed = OtlpJson.Parse<RpcStatus>("""{"details":[{"retryDelay":"2s","@type":"type.googleapis.com/google.rpc.RetryInfo"}]}""");
        Assert.Equal(2, parsed.Details[0].Unpack<RetryInfo>().RetryDelay.Seconds);
    }

    [Fact]
    public void Ids_are_hex_int64_are_strings_and_enums_are_integers_on_the_wire()
    {
        var traces = SampleData.Traces(1);
        var span = traces.ResourceSpans[0].ScopeSpans[0].Spans[0];
        using var doc = JsonDocument.Parse(OtlpJson.ToUtf8Bytes(traces));
        var wire = doc.RootElement.GetProperty("resourceSpans")[0].GetProperty("scopeSpans")[0].GetProperty("spans")[0];

        Assert.Equal(Convert.ToHexStringLower(span.TraceId.ToByteArray()), wire.GetProperty("traceId").GetString());
        Assert.Equal(Convert.ToHexStringLower(span.SpanId.ToByteArray()), wire.GetProperty("spanId").GetString());
        Assert.Equal(Convert.ToHexStringLower(span.Links[0].TraceId.ToByteArray()), wire.GetProperty("links")[0].GetProperty("traceId").GetString());
        Assert.Equal(JsonValueKind.String, wire.GetProperty("startTimeUnixNano").ValueKind);
        Assert.Equal(span.StartTimeUnixNano.ToString(), wire.GetProperty("startTimeUnixNano").GetString());
        Assert.Equal(2, wire.GetProperty("kind").GetInt32());
        Assert.Equal(JsonValueKind.Number, wire.GetProperty("status").GetProperty("code").ValueKind);
        Assert.Equal("200", wire.GetProperty("attributes")[1].GetProperty("value").GetProperty("intValue").GetString());
        Assert.Equal(0x101, wire.GetProperty("flags").GetInt32());
        // parent span id is empty on this span (a root): defaults are omitted.
        Assert.False(wire.TryGetProperty("parentSpanId", out _));

        var logs = SampleData.Logs(1);
        using var logDoc = JsonDocument.Parse(OtlpJson.ToUtf8Bytes(logs));
        var record = logDoc.RootElement.GetProperty("resourceLogs")[0].GetProperty("scopeLogs")[0].GetProperty("logRecords")[0];
        Assert.Equal("000102030405060708090a0b0c0d0e0f", record.GetProperty("traceId").GetString());
        Assert.Equal(9, record.GetProperty("severityNumber").GetInt32());
    }

    [Fact]
    public void Int64_accepts_strings_and_numbers_and_enums_accept_names()
    {
        var fromStrings = OtlpJson.Parse<ExportTraceServiceRequest>(
            """{"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":"1544712660000000000","kind":"SPAN_KIND_CLIENT","attributes":[{"key":"n","value":{"intValue":"-42"}}],"droppedAttributesCount":"7"}]}]}]}""");
        var fromNumbers = OtlpJson.Parse<ExportTraceServiceRequest>(
            """{"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":1544712660000000000,"kind":3,"attributes":[{"key":"n","value":{"intValue":-42}}],"droppedAttributesCount":7}]}]}]}""");
        Assert.Equal(fromNumbers, fromStrings);
        var span = fromStrings.ResourceSpans[0].ScopeSpans[0].Spans[0];
        Assert.Equal(1544712660000000000UL, span.StartTimeUnixNano);
        Assert.Equal(Span.Types.SpanKind.Client, span.Kind);
        Assert.Equal(-42, span.Attributes[0].Value.IntValue);
        Assert.Equal(7u, span.DroppedAttributesCount);
        // Values beyond 2^53 survive both ways (the reason int64 is a string in JSON).
        var big = OtlpJson.Parse<ExportMetricsServiceRequest>("""{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"sum":{"dataPoints":[{"asInt":"9007199254740993"}]}}]}]}]}""");
        Assert.Equal(9007199254740993L, big.ResourceMetrics[0].ScopeMetrics[0].Metrics[0].Sum.DataPoints[0].AsInt);
    }

    [Fact]
    public void Snake_case_keys_unknown_fields_and_nulls_are_accepted()
    {
        var parsed = OtlpJson.Parse<ExportLogsServiceRequest>("""
            {"resource_logs":[{"future_field":{"a":[1,2,{"b":null}]},"resource":null,
              "scope_logs":[{"log_records":[{"time_unix_nano":"5","severity_number":"SEVERITY_NUMBER_WARN","trace_id":"5B8EFFF798038103D269B633813FC60C",
                "span_id":"eee19b7ec3c1b174","body":{"string_value":"hi"},"observed_time_unix_nano":null,"extra":true}]}]}]}
            """);
        var record = parsed.ResourceLogs[0].ScopeLogs[0].LogRecords[0];
        Assert.Null(parsed.ResourceLogs[0].Resource);
        Assert.Equal(5UL, record.TimeUnixNano);
        Assert.Equal(0UL, record.ObservedTimeUnixNano);
        Assert.Equal(SeverityNumber.Warn, record.SeverityNumber);
        Assert.Equal("5b8efff798038103d269b633813fc60c", Convert.ToHexStringLower(record.TraceId.ToByteArray()));
        Assert.Equal("eee19b7ec3c1b174", Convert.ToHexStringLower(record.SpanId.ToByteArray()));
        Assert.Equal("hi", record.Body.StringValue);
    }

    [Fact]
    public void Doubles_accept_special_value_strings()
    {
        var parsed = OtlpJson.Parse<ExportMetricsServiceRequest>("""
            {"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"gauge":{"dataPoints":[{"asDouble":"NaN"},{"asDouble":"Infinity"},{"asDouble":"-Infinity"},{"asDouble":"2.5"},{"asDouble":1e3}]}}]}]}]}
            """);
        var points = parsed.ResourceMetrics[0].ScopeMetrics[0].Metrics[0].Gauge.DataPoints;
        Assert.True(double.IsNaN(points[0].AsDouble));
        Assert.Equal(double.PositiveInfinity, points[1].AsDouble);
        Assert.Equal(double.NegativeInfinity, points[2].AsDouble);
        Assert.Equal(2.5, points[3].AsDouble);
        Assert.Equal(1000, points[4].AsDouble);
        Assert.Contains("\"asDouble\":\"NaN\"", OtlpJson.ToJson(parsed));
    }

    [Fact]
    public void Sequence_input_split_inside_tokens_decodes_like_contiguous_input()
    {
        var traces = SampleData.Traces(10);
        var bytes = OtlpJson.ToUtf8Bytes(traces);
        // 7-byte segments split keys, ids and numbers across segment boundaries.
        var sequence = Segments.Split(bytes, 7);
        Assert.False(sequence.IsSingleSegment);
        Assert.Equal(traces, OtlpJson.Parse<ExportTraceServiceRequest>(sequence));
    }

    // The example payloads of the OTLP specification (opentelemetry-proto/examples/*.json), as data.
    private const string SpecTraceExample = """
        {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"my.service"}}]},
          "scopeSpans":[{"scope":{"name":"my.library","version":"1.0.0","attributes":[{"key":"my.scope.attribute","value":{"stringValue":"some scope attribute"}}]},
          "spans":[{"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174","parentSpanId":"EEE19B7EC3C1B173",
            "name":"I'm a server span","startTimeUnixNano":1544712660000000000,"endTimeUnixNano":1544712661000000000,"kind":2,
            "attributes":[{"key":"my.span.attr","value":{"stringValue":"some value"}}]}]}]}]}
        """;

    private const string SpecMetricsExample = """
        {"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"my.service"}}]},
          "scopeMetrics":[{"scope":{"name":"my.library","version":"1.0.0","attributes":[{"key":"my.scope.attribute","value":{"stringValue":"some scope attribute"}}]},
          "metrics":[
            {"name":"my.counter","unit":"1","description":"I`m a Counter","sum":{"aggregationTemporality":1,"isMonotonic":true,
              "dataPoints":[{"asDouble":5,"startTimeUnixNano":1544712660300000000,"timeUnixNano":1544712660300000000,"attributes":[{"key":"my.counter.attr","value":{"stringValue":"some value"}}]}]}},
            {"name":"my.gauge","unit":"1","description":"I`m a Gauge","gauge":{
              "dataPoints":[{"asDouble":10,"timeUnixNano":1544712660300000000,"attributes":[{"key":"my.gauge.attr","value":{"stringValue":"some value"}}]}]}},
            {"name":"my.histogram","unit":"1","description":"I`m a Histogram","histogram":{"aggregationTemporality":1,
              "dataPoints":[{"startTimeUnixNano":1544712660300000000,"timeUnixNano":1544712660300000000,"count":3,"sum":3,"bucketCounts":[1,1,1],"explicitBounds":[1],"min":1,"max":1,
                "attributes":[{"key":"my.histogram.attr","value":{"stringValue":"some value"}}]}]}}]}]}]}
        """;

    private const string SpecLogsExample = """
        {"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"my.service"}}]},
          "scopeLogs":[{"scope":{"name":"my.library","version":"1.0.0","attributes":[{"key":"my.scope.attribute","value":{"stringValue":"some scope attribute"}}]},
          "logRecords":[{"timeUnixNano":1544712660300000000,"observedTimeUnixNano":1544712660300000000,"severityText":"Information",
            "traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174","body":{"stringValue":"Example log record"},
            "attributes":[{"key":"string.attribute","value":{"stringValue":"some string"}},{"key":"boolean.attribute","value":{"boolValue":true}},
              {"key":"int.attribute","value":{"intValue":10}},{"key":"double.attribute","value":{"doubleValue":637.704}},
              {"key":"array.attribute","value":{"arrayValue":{"values":[{"stringValue":"many"},{"stringValue":"values"}]}}},
              {"key":"map.attribute","value":{"kvlistValue":{"values":[{"key":"some.map.key","value":{"stringValue":"some value"}}]}}}]}]}]}]}
        """;

    [Fact]
    public void Specification_trace_example_decodes()
    {
        var traces = OtlpJson.Parse<ExportTraceServiceRequest>(SpecTraceExample);
        var span = traces.ResourceSpans[0].ScopeSpans[0].Spans[0];
        Assert.Equal("my.service", traces.ResourceSpans[0].Resource.Attributes[0].Value.StringValue);
        Assert.Equal("1.0.0", traces.ResourceSpans[0].ScopeSpans[0].Scope.Version);
        Assert.Equal(Convert.FromHexString("5B8EFFF798038103D269B633813FC60C"), span.TraceId.ToByteArray());
        Assert.Equal(Convert.FromHexString("EEE19B7EC3C1B173"), span.ParentSpanId.ToByteArray());
        Assert.Equal(1544712661000000000UL, span.EndTimeUnixNano);
        Assert.Equal(Span.Types.SpanKind.Server, span.Kind);
        Assert.Equal(traces, RoundTrip(traces));
    }

    [Fact]
    public void Specification_metrics_example_decodes()
    {
        var metrics = OtlpJson.Parse<ExportMetricsServiceRequest>(SpecMetricsExample);
        var list = metrics.ResourceMetrics[0].ScopeMetrics[0].Metrics;
        Assert.Equal(3, list.Count);
        Assert.True(list[0].Sum.IsMonotonic);
        Assert.Equal(AggregationTemporality.Delta, list[0].Sum.AggregationTemporality);
        Assert.Equal(5, list[0].Sum.DataPoints[0].AsDouble);
        Assert.Equal(10, list[1].Gauge.DataPoints[0].AsDouble);
        var histogram = list[2].Histogram.DataPoints[0];
        Assert.Equal(3UL, histogram.Count);
        Assert.Equal([1UL, 1UL, 1UL], histogram.BucketCounts);
        Assert.True(histogram.HasMin && histogram.HasMax && histogram.HasSum);
        Assert.Equal(metrics, RoundTrip(metrics));
    }

    [Fact]
    public void Specification_logs_example_decodes()
    {
        var logs = OtlpJson.Parse<ExportLogsServiceRequest>(SpecLogsExample);
        var record = logs.ResourceLogs[0].ScopeLogs[0].LogRecords[0];
        Assert.Equal("Example log record", record.Body.StringValue);
        Assert.Equal(10, record.Attributes[2].Value.IntValue);
        Assert.Equal(637.704, record.Attributes[3].Value.DoubleValue);
        Assert.Equal("values", record.Attributes[4].Value.ArrayValue.Values[1].StringValue);
        Assert.Equal("some.map.key", record.Attributes[5].Value.KvlistValue.Values[0].Key);
        Assert.Equal(logs, RoundTrip(logs));
    }

    [Theory]
    [InlineData("""{"resourceSpans":[{"scopeSpans":[{"spans":[{},{"traceId":"W47/95gDgQPSabYzgT/GDA=="}]}]}]}""",
        "$.resourceSpans[0].scopeSpans[0].spans[1].traceId", "trace id must be 32 hex digits")]
    [InlineData("""{"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"zz00000000000000"}]}]}]}""",
        "$.resourceSpans[0].scopeSpans[0].spans[0].spanId", "hex digits")]
    [InlineData("""{"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":"soon"}]}]}]}""",
        "$.resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano", "decimal string")]
    [InlineData("""{"resourceSpans":{"scopeSpans":[]}}""", "$.resourceSpans", "expected an array, found an object")]
    [InlineData("""{"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":"SPAN_KIND_BOGUS"}]}]}]}""",
        "$.resourceSpans[0].scopeSpans[0].spans[0].kind", "not a value of enum SpanKind")]
    [InlineData("""{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"x",}]}]}]}""", "$.resourceSpans[0].scopeSpans[0].spans[0]", "line 1")]
    [InlineData("""[]""", "$", "expected an object")]
    [InlineData("", "$", "empty input")]
    public void Malformed_input_is_reported_with_path_and_position(string json, string path, string problem)
    {
        var error = Assert.Throws<OtlpJsonException>(() => OtlpJson.Parse<ExportTraceServiceRequest>(json));
        Assert.Equal(path, error.JsonPath);
        Assert.Contains(problem, error.Message);
        Assert.StartsWith($"invalid OTLP/JSON at {path} (", error.Message);
    }

    [Theory]
    [InlineData("startTimeUnixNano", "18446744073709551616")] // 2^64: one past fixed64's range
    [InlineData("startTimeUnixNano", "1e20")]
    [InlineData("droppedAttributesCount", "4294967296")] // 2^32: one past uint32's range
    [InlineData("droppedAttributesCount", "-1")]
    public void Out_of_range_integers_are_refused_as_numbers_as_they_are_as_strings(string field, string value)
    {
        foreach (var written in new[] { value, $"\"{value}\"" })
        {
            var json = $$"""{"resourceSpans":[{"scopeSpans":[{"spans":[{"{{field}}":{{written}}}]}]}]}""";
            var error = Assert.Throws<OtlpJsonException>(() => OtlpJson.Parse<ExportTraceServiceRequest>(json));
            Assert.Equal($"$.resourceSpans[0].scopeSpans[0].spans[0].{field}", error.JsonPath);
        }
    }

    [Fact]
    public void Int64_bounds_are_exact_for_numbers()
    {
        Assert.Throws<OtlpJsonException>(() => OtlpJson.Parse<ExportTraceServiceRequest>(
            """{"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"k","value":{"intValue":9223372036854775808}}]}]}]}]}"""));
        var largest = OtlpJson.Parse<ExportTraceServiceRequest>(
            """{"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":18446744073709549568}]}]}]}"""); // the largest double below 2^64
        Assert.Equal(18446744073709549568UL, largest.ResourceSpans[0].ScopeSpans[0].Spans[0].StartTimeUnixNano);
    }

    [Theory]
    [InlineData(new byte[] { 0xC3, 0x28 })] // a two-byte lead followed by a non-continuation byte
    [InlineData(new byte[] { 0xE9 })] // Latin-1 'é', not UTF-8
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })] // an encoded surrogate
    public void Invalid_utf8_in_a_string_is_refused_not_reinterpreted(byte[] bad)
    {
        // A span name, an attribute's string value, and an attribute key.
        foreach (var (before, after) in new[]
        {
            ("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":\"a", "\"}]}]}]}"),
            ("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"attributes\":[{\"key\":\"k\",\"value\":{\"stringValue\":\"a", "\"}}]}]}]}]}"),
            ("{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"a", "\",\"value\":{\"intValue\":1}}]}}]}"),
        })
        {
            var json = Encoding.UTF8.GetBytes(before).Concat(bad).Concat(Encoding.UTF8.GetBytes(after)).ToArray();
            var error = Assert.Throws<OtlpJsonException>(() => OtlpJson.Parse<ExportTraceServiceRequest>(json.AsSpan()));
            Assert.Contains("UTF-8", error.Message);
        }
    }

    [Fact]
    public void Error_offset_points_at_the_offending_value()
    {
        const string json = """{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"abc"}]}]}]}""";
        var error = Assert.Throws<OtlpJsonException>(() => OtlpJson.Parse<ExportTraceServiceRequest>(json));
        Assert.Equal(json.IndexOf("\"abc\"", StringComparison.Ordinal), error.ByteOffset);
        Assert.Null(error.Line);
    }
}

/// <summary>Builds multi-segment sequences to exercise token boundaries.</summary>
internal sealed class Segments : ReadOnlySequenceSegment<byte>
{
    private Segments(ReadOnlyMemory<byte> memory, long runningIndex)
    {
        Memory = memory;
        RunningIndex = runningIndex;
    }

    public static ReadOnlySequence<byte> Split(byte[] data, int segmentSize)
    {
        var first = new Segments(data.AsMemory(0, Math.Min(segmentSize, data.Length)), 0);
        var last = first;
        for (var offset = segmentSize; offset < data.Length; offset += segmentSize)
        {
            var next = new Segments(data.AsMemory(offset, Math.Min(segmentSize, data.Length - offset)), offset);
            last.Next = next;
            last = next;
        }
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }
}
