using OtelAi.Otlp;
using OtelAi.Processors.Ottl;
using OtelAi.Otlp.Proto.Common.V1;
using static OtelAi.Ottl.Tests.OttlTestContext;

namespace OtelAi.Ottl.Tests;

public class EditorTests
{
    private static (OttlContext Context, Google.Protobuf.Collections.RepeatedField<KeyValue> Attributes) WithAttributes(params (string Key, string Value)[] attributes)
    {
        var (_, context) = Span();
        context.Span.Attributes.Clear();
        foreach (var (key, value) in attributes) context.Span.Attributes.Add(new KeyValue { Key = key, Value = Attributes.String(value) });
        return (context, context.Span.Attributes);
    }

    private static string[] Keys(Google.Protobuf.Collections.RepeatedField<KeyValue> attributes) => attributes.Select(a => a.Key).ToArray();

    [Fact]
    public void Set_upserts_and_ignores_nil()
    {
        var (context, attributes) = WithAttributes(("a", "1"));
        Run(context, "set(attributes[\"a\"], \"2\")");
        Run(context, "set(attributes[\"b\"], attributes[\"a\"])");
        Run(context, "set(attributes[\"c\"], attributes[\"missing\"])");
        Assert.Equal(["a", "b"], Keys(attributes));
        Assert.Equal("2", attributes.Get("b")!.StringValue);
    }

    [Fact]
    public void Delete_key_and_delete_matching_keys()
    {
        var (context, attributes) = WithAttributes(("a", "1"), ("http.x", "2"), ("http.y", "3"), ("b", "4"));
        Run(context, "delete_key(attributes, \"a\")");
        Run(context, "delete_key(attributes, \"absent\")");
        Run(context, "delete_matching_keys(attributes, \"^http\\\\.\")");
        Assert.Equal(["b"], Keys(attributes));
    }

    [Fact]
    public void Keep_keys_and_keep_matching_keys()
    {
        var (context, attributes) = WithAttributes(("a", "1"), ("b", "2"), ("c", "3"), ("k8s.pod", "4"));
        Run(context, "keep_keys(attributes, [\"a\", \"c\", \"k8s.pod\"])");
        Assert.Equal(["a", "c", "k8s.pod"], Keys(attributes));
        Run(context, "keep_matching_keys(attributes, \"^k8s\\\\.\")");
        Assert.Equal(["k8s.pod"], Keys(attributes));
    }

    [Fact]
    public void Limit_keeps_priority_keys_first()
    {
        var (context, attributes) = WithAttributes(("a", "1"), ("b", "2"), ("c", "3"), ("d", "4"));
        Run(context, "limit(attributes, 2, [\"d\"])");
        Assert.Equal(["a", "d"], Keys(attributes));
        Run(context, "limit(attributes, 5, [])");
        Assert.Equal(2, attributes.Count);
        Run(context, "limit(attributes, 0, [])");
        Assert.Empty(attributes);
    }

    [Fact]
    public void Truncate_all_cuts_strings_on_utf8_boundaries()
    {
        var (context, attributes) = WithAttributes(("a", "abcdef"), ("b", "ab"), ("u", "héllo"));
        attributes.Add(new KeyValue { Key = "n", Value = Attributes.Int(123456) });
        Run(context, "truncate_all(attributes, 3)");
        Assert.Equal("abc", attributes.Get("a")!.StringValue);
        Assert.Equal("ab", attributes.Get("b")!.StringValue);
        Assert.Equal("hé", attributes.Get("u")!.StringValue);
        Assert.Equal(123456, attributes.Get("n")!.IntValue);
    }

    [Fact]
    public void Replace_pattern_with_groups_and_hash_function()
    {
        var (context, attributes) = WithAttributes(("cmd", "run --password=secret --x"), ("path", "/user/123/list"));
        Run(context, "replace_pattern(attributes[\"cmd\"], \"password\\\\=[^\\\\s]*(\\\\s?)\", \"password=***\")");
        Assert.Equal("run --password=***--x", attributes.Get("cmd")!.StringValue);
        Run(context, "replace_pattern(attributes[\"path\"], \"/user/(\\\\d+)/\", \"/user/$1-id/\")");
        Assert.Equal("/user/123-id/list", attributes.Get("path")!.StringValue);
        Run(context, "replace_pattern(attributes[\"path\"], \"\\\\d+\", \"$0\", SHA256, \"hash:%s\")");
        Assert.Equal("/user/hash:a665a45920422f9d417e4867efdc4fb8a04a1f3fff1fa07e998e86f7f7a27ae3-id/list", attributes.Get("path")!.StringValue);
        // Non-strings are left alone.
        Run(context, "replace_pattern(attributes[\"missing\"], \"a\", \"b\")");
        Assert.Null(attributes.Get("missing"));
    }

    [Fact]
    public void Replace_all_patterns_on_values_and_keys()
    {
        var (context, attributes) = WithAttributes(("k8s.namespace.name", "/account/1234"), ("other", "/account/5678/x"));
        Run(context, "replace_all_patterns(attributes, \"value\", \"/account/\\\\d{4}\", \"/account/{accountId}\")");
        Assert.Equal("/account/{accountId}", attributes.Get("k8s.namespace.name")!.StringValue);
        Assert.Equal("/account/{accountId}/x", attributes.Get("other")!.StringValue);
        Run(context, "replace_all_patterns(attributes, \"key\", \"k8s\\\\.namespace\\\\.name\", \"namespace\")");
        Assert.Equal(["namespace", "other"], Keys(attributes));
    }

    [Fact]
    public void Replace_match_and_replace_all_matches_use_globs()
    {
        var (context, attributes) = WithAttributes(("route", "/user/42/list/7"), ("other", "/health"), ("b", "/user/1/list/2"));
        Run(context, "replace_match(attributes[\"route\"], \"/user/*/list/*\", \"/user/{userId}/list/{listId}\")");
        Run(context, "replace_match(attributes[\"other\"], \"/user/*\", \"x\")");
        Assert.Equal("/user/{userId}/list/{listId}", attributes.Get("route")!.StringValue);
        Assert.Equal("/health", attributes.Get("other")!.StringValue);
        attributes.Get("route")!.StringValue = "/user/9/list/9";
        Run(context, "replace_all_matches(attributes, \"/user/*/list/*\", \"/user/{userId}/list/{listId}\")");
        Assert.Equal("/user/{userId}/list/{listId}", attributes.Get("route")!.StringValue);
        Assert.Equal("/user/{userId}/list/{listId}", attributes.Get("b")!.StringValue);
        Assert.Equal("/health", attributes.Get("other")!.StringValue);
        Run(context, "replace_match(name, \"POST {/v1,/v2}/models/?????-0/infer\", \"inference\")");
        Assert.Equal("inference", context.Span.Name);
    }

    [Theory]
    [InlineData("insert", "old", "new-b")]
    [InlineData("update", "new-a", null)]
    [InlineData("upsert", "new-a", "new-b")]
    public void Merge_maps_strategies(string strategy, string expectedA, string? expectedB)
    {
        var (context, attributes) = WithAttributes(("a", "old"));
        Run(context, $"merge_maps(attributes, {{\"a\": \"new-a\", \"b\": \"new-b\"}}, \"{strategy}\")");
        Assert.Equal(expectedA, attributes.Get("a")!.StringValue);
        Assert.Equal(expectedB, attributes.Get("b")?.StringValue);
    }

    [Fact]
    public void Append_builds_lists()
    {
        var (context, attributes) = WithAttributes(("tags", "first"));
        Run(context, "append(attributes[\"tags\"], \"second\")");
        Run(context, "append(attributes[\"tags\"], values = [\"third\", \"fourth\"])");
        Run(context, "append(attributes[\"new\"], 1)");
        Assert.Equal(["first", "second", "third", "fourth"], attributes.Get("tags")!.ArrayValue.Values.Select(v => v.StringValue));
        Assert.Equal(1, attributes.Get("new")!.ArrayValue.Values.Single().IntValue);
    }

    [Fact]
    public void Flatten_nested_maps_and_lists()
    {
        var (context, attributes) = WithAttributes();
        Run(context, "set(attributes[\"a\"], {\"b\": {\"c\": 1}, \"l\": [\"x\", \"y\"]})");
        Run(context, "set(attributes[\"z\"], 2)");
        Run(context, "flatten(attributes)");
        Assert.Equal(["a.b.c", "a.l.0", "a.l.1", "z"], Keys(attributes));
        Run(context, "set(attributes[\"m\"], {\"n\": {\"o\": 1}})");
        Run(context, "flatten(attributes, \"p\", 1)");
        Assert.Contains("p.m.n", Keys(attributes));
    }
}

public class ConverterTests
{
    [Fact]
    public void Concat_joins_string_like_values_and_prints_nil()
    {
        var (_, context) = Span();
        Assert.Equal("inference-api node-1", Value(context, "Concat([resource.attributes[\"service.name\"], resource.attributes[\"host.name\"]], \" \")")!.StringValue);
        Assert.Equal("POST-200-0.5-true-<nil>", Value(context, "Concat([attributes[\"http.request.method\"], attributes[\"http.response.status_code\"], attributes[\"ratio\"], attributes[\"ok\"], attributes[\"x\"]], \"-\")")!.StringValue);
    }

    [Fact]
    public void ParseJSON_objects_arrays_and_errors()
    {
        var (_, context) = Span();
        var parsed = Value(context, "ParseJSON(\"{\\\"model\\\":\\\"llama-3\\\",\\\"n\\\":2,\\\"ok\\\":true,\\\"nested\\\":{\\\"a\\\":[1,2]}}\")")!.KvlistValue.Values;
        Assert.Equal("llama-3", parsed.Get("model")!.StringValue);
        Assert.Equal(2.0, parsed.Get("n")!.DoubleValue);
        Assert.True(parsed.Get("ok")!.BoolValue);
        Assert.Equal(2, parsed.Get("nested")!.KvlistValue.Values.Get("a")!.ArrayValue.Values.Count);
        Assert.Equal(3, Value(context, "ParseJSON(\"[1,2,3]\")")!.ArrayValue.Values.Count);
        Assert.Throws<OttlRuntimeException>(() => Value(context, "ParseJSON(\"{not json\")"));
        Assert.Throws<OttlRuntimeException>(() => Value(context, "ParseJSON(\"42\")"));
    }

    [Theory]
    [InlineData("IsMatch(name, \"^POST /v1/models/.*/infer$\")", true)]
    [InlineData("IsMatch(name, \"^GET\")", false)]
    [InlineData("IsMatch(attributes[\"http.response.status_code\"], \"^2\\\\d\\\\d$\")", true)]
    [InlineData("IsMatch(attributes[\"missing\"], \".*\")", false)]
    [InlineData("IsString(name)", true)]
    [InlineData("IsString(kind)", false)]
    [InlineData("IsInt(kind)", true)]
    [InlineData("IsDouble(attributes[\"ratio\"])", true)]
    [InlineData("IsBool(attributes[\"ok\"])", true)]
    [InlineData("IsMap(resource.attributes)", true)]
    [InlineData("IsMap(name)", false)]
    [InlineData("IsList(Split(name, \"/\"))", true)]
    public void Predicates(string condition, bool expected)
    {
        var (_, context) = Span();
        Assert.Equal(expected, Eval(context, condition));
    }

    [Fact]
    public void Int_Double_String_conversions()
    {
        var (_, context) = Span();
        context.Span.Attributes.Add(new KeyValue { Key = "mem", Value = Attributes.String("2048") });
        Assert.Equal(2048, Value(context, "Int(attributes[\"mem\"])")!.IntValue);
        Assert.Equal(3, Value(context, "Int(3.9)")!.IntValue);
        Assert.Equal(1, Value(context, "Int(true)")!.IntValue);
        Assert.Null(Value(context, "Int(\"abc\")"));
        Assert.Equal(2048.0, Value(context, "Double(attributes[\"mem\"])")!.DoubleValue);
        Assert.Equal(200.0, Value(context, "Double(attributes[\"http.response.status_code\"])")!.DoubleValue);
        Assert.Null(Value(context, "Double(\"x\")"));
        Assert.Equal("200", Value(context, "String(attributes[\"http.response.status_code\"])")!.StringValue);
        Assert.Equal("true", Value(context, "String(true)")!.StringValue);
        Assert.Equal("{\"a\":1}", Value(context, "String({\"a\": 1})")!.StringValue);
    }

    [Fact]
    public void String_functions()
    {
        var (_, context) = Span();
        Assert.Equal(["POST ", "v1", "models", "llama-0", "infer"], Value(context, "Split(name, \"/\")")!.ArrayValue.Values.Select(v => v.StringValue));
        Assert.Equal("models", Value(context, "Substring(name, 9, 6)")!.StringValue);
        Assert.Throws<OttlRuntimeException>(() => Value(context, "Substring(name, 20, 100)"));
        Assert.Equal("post /v1/models/llama-0/infer", Value(context, "ToLowerCase(name)")!.StringValue);
        Assert.Equal("POST /V1/MODELS/LLAMA-0/INFER", Value(context, "ToUpperCase(name)")!.StringValue);
        Assert.Equal(29, Value(context, "Len(name)")!.IntValue);
        Assert.Equal(2, Value(context, "Len(resource.attributes)")!.IntValue);
        Assert.Equal(3, Value(context, "Len([1, 2, 3])")!.IntValue);
    }

    [Fact]
    public void Hashes()
    {
        var (_, context) = Span();
        Assert.Equal("a665a45920422f9d417e4867efdc4fb8a04a1f3fff1fa07e998e86f7f7a27ae3", Value(context, "SHA256(\"123\")")!.StringValue);
        Assert.Equal("40bd001563085fc35165329ea1ff5c5ecbdbbeef", Value(context, "SHA1(\"123\")")!.StringValue);
        Assert.Equal("202cb962ac59075b964b07152d234b70", Value(context, "MD5(\"123\")")!.StringValue);
        // FNV-1a 64 of "" is the offset basis.
        Assert.Equal(unchecked((long)14695981039346656037UL), Value(context, "FNV(\"\")")!.IntValue);
        Assert.Equal("0a0b", Value(context, "Hex(0x0a0b)")!.StringValue);
        Assert.Equal("000000000000000a", Value(context, "Hex(10)")!.StringValue);
    }

    [Fact]
    public void Time_functions()
    {
        var (_, context) = Span();
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var now = Value(context, "UnixMilli(Now())")!.IntValue;
        Assert.InRange(now, before - 1, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 1);
        Assert.Equal(1_700_000_000L, Value(context, "UnixSeconds(start_time)")!.IntValue);
        Assert.Equal(1_700_000_000_000_000L, Value(context, "UnixMicro(start_time)")!.IntValue);
        Assert.Equal(1_700_000_000_000_000_500L, Value(context, "UnixNano(Unix(1700000000, 500))")!.IntValue);
        Assert.Equal(1_695_368_302_570_000_000L, Value(context, "UnixNano(Time(\"2023-09-22 07:38:22,570\", \"%Y-%m-%d %H:%M:%S,%L\"))")!.IntValue);
        Assert.Equal(1_695_361_102_000_000_000L, Value(context, "UnixNano(Time(\"2023-09-22T07:38:22+02:00\", \"%Y-%m-%dT%H:%M:%S%z\"))")!.IntValue);
        Assert.Throws<OttlRuntimeException>(() => Value(context, "UnixNano(Time(\"yesterday\", \"%Y-%m-%d\"))"));
        Assert.Throws<OttlCompileException>(() => OttlLanguage.CompileCondition("Time(\"x\", \"%Q\") == nil", OttlContextKind.Span));
    }
}

/// <summary>The string, map, number, duration and time converters, on the examples of otelcol's ottlfuncs README.</summary>
public class StringAndTimeConverterTests
{
    private static AnyValue Of(string expression)
    {
        var (_, context) = Span();
        return Value(context, expression)!;
    }

    [Theory]
    [InlineData("HasPrefix(\"ingest_service\", \"ingest_\")", true)]
    [InlineData("HasPrefix(resource.attributes[\"service.name\"], \"ingest_\")", false)]
    [InlineData("HasSuffix(\"ingest_service\", \"_service\")", true)]
    [InlineData("HasSuffix(name, \"/infer\")", true)]
    [InlineData("IsEmpty(\"\")", true)]
    [InlineData("IsEmpty(attributes[\"missing\"])", true)]
    [InlineData("IsEmpty(name)", false)]
    [InlineData("IsEmpty(0)", true)]
    [InlineData("IsValidLuhn(\"17893729974\")", true)]
    [InlineData("IsValidLuhn(\"17893729975\")", false)]
    [InlineData("IsValidLuhn(17893729974)", true)]
    [InlineData("IsInCIDR(\"192.168.1.10\", [\"192.168.0.0/16\"])", true)]
    [InlineData("IsInCIDR(\"10.1.2.3\", [\"192.168.0.0/16\", \"10.0.0.0/8\"])", true)]
    [InlineData("IsInCIDR(\"172.16.0.1\", [\"192.168.0.0/16\", \"10.0.0.0/8\"])", false)]
    public void Predicates(string expression, bool expected) => Assert.Equal(expected, Of(expression).BoolValue);

    [Theory]
    [InlineData("Index(\"hello world\", \"world\")", 6)]
    [InlineData("Index(\"hello world\", \"moon\")", -1)]
    [InlineData("Index(\"héllo world\", \"world\")", 7)] // a byte offset, as Go's strings.Index
    [InlineData("Index(Split(\"a,error,b\", \",\"), \"error\")", 1)]
    [InlineData("Index([90, 95, 100], 95)", 1)]
    [InlineData("ParseInt(\"0b1111_0000\", 0)", 240)]
    [InlineData("ParseInt(\"0b10110\", 0)", 22)]
    [InlineData("ParseInt(\"0xFF\", 0)", 255)]
    [InlineData("ParseInt(\"-0xFF\", 0)", -255)]
    [InlineData("ParseInt(\"-0o123\", 0)", -83)]
    [InlineData("ParseInt(\"12345\", 10)", 12345)]
    [InlineData("ParseInt(\"0xAA\", 0)", 170)]
    [InlineData("ParseInt(\"AA\", 16)", 170)]
    [InlineData("ParseInt(\"-20\", 8)", -16)]
    [InlineData("Milliseconds(Duration(\"1h\"))", 3_600_000)]
    [InlineData("Microseconds(Duration(\"1h\"))", 3_600_000_000)]
    [InlineData("Nanoseconds(Duration(\"1h30m\"))", 5_400_000_000_000)]
    [InlineData("Nanoseconds(Duration(\"1ns\"))", 1)] // to the nanosecond, finer than a TimeSpan tick
    [InlineData("Nanoseconds(Duration(\"1.5us\"))", 1_500)]
    [InlineData("Year(Time(\"2023-02-04 15:04:05\", \"%Y-%m-%d %H:%M:%S\"))", 2023)]
    [InlineData("Month(Time(\"2023-02-04 15:04:05\", \"%Y-%m-%d %H:%M:%S\"))", 2)]
    [InlineData("Day(Time(\"2023-02-04 15:04:05\", \"%Y-%m-%d %H:%M:%S\"))", 4)]
    [InlineData("Hour(Time(\"2023-02-04 15:04:05\", \"%Y-%m-%d %H:%M:%S\"))", 15)]
    [InlineData("Minute(Time(\"2023-02-04 15:04:05\", \"%Y-%m-%d %H:%M:%S\"))", 4)]
    [InlineData("Second(Time(\"2023-02-04 15:04:05\", \"%Y-%m-%d %H:%M:%S\"))", 5)]
    [InlineData("Weekday(Time(\"2023-02-04 15:04:05\", \"%Y-%m-%d %H:%M:%S\"))", 6)] // a Saturday
    public void Integers(string expression, long expected) => Assert.Equal(expected, Of(expression).IntValue);

    [Theory]
    [InlineData("Hours(Duration(\"1h\"))", 1.0)]
    [InlineData("Minutes(Duration(\"1h\"))", 60.0)]
    [InlineData("Seconds(Duration(\"1m30s\"))", 90.0)]
    [InlineData("Hours(Duration(\"-1.5h\"))", -1.5)]
    [InlineData("Log(100)", 4.605170185988092)]
    [InlineData("Log(\"2.718281828459045\")", 1.0)]
    public void Doubles(string expression, double expected) => Assert.Equal(expected, Of(expression).DoubleValue, 12);

    [Theory]
    [InlineData("TrimPrefix(\"ingest_service\", \"ingest_\")", "service")]
    [InlineData("TrimPrefix(\"ingest_service\", \"other\")", "ingest_service")]
    [InlineData("TrimSuffix(\"ingest_service\", \"_service\")", "ingest")]
    [InlineData("Trim(\"  padded  \")", "padded")]
    [InlineData("Trim(\"--x-y--\", \"-\")", "x-y")]
    public void Strings(string expression, string expected) => Assert.Equal(expected, Of(expression).StringValue);

    [Fact]
    public void Keys_and_values_of_a_map()
    {
        Assert.Equal(["service.name", "host.name"], Of("Keys(resource.attributes)").ArrayValue.Values.Select(v => v.StringValue));
        Assert.Equal(["inference-api", "node-1"], Of("Values(resource.attributes)").ArrayValue.Values.Select(v => v.StringValue));
    }

    [Theory]
    [InlineData("HasPrefix(attributes[\"http.response.status_code\"], \"2\")")]
    [InlineData("Log(0)")]
    [InlineData("Log(false)")]
    [InlineData("ParseInt(\"12a\", 10)")]
    [InlineData("ParseInt(\"9223372036854775808\", 10)")]
    [InlineData("Duration(\"1 fortnight\")")]
    [InlineData("Hours(name)")]
    [InlineData("Keys(name)")]
    [InlineData("IsValidLuhn(\"12-34\")")]
    public void Errors_as_otelcol_reports_them(string expression) =>
        Assert.Throws<OttlRuntimeException>(() => Of(expression));
}

/// <summary>delete_index, SliceToMap and Sort on the examples of otelcol's ottlfuncs README.</summary>
public class ListFunctionTests
{
    private const string Things = "ParseJSON(\"[{\\\"name\\\":\\\"foo\\\",\\\"value\\\":2},{\\\"name\\\":\\\"bar\\\",\\\"value\\\":5}]\")";

    private static AnyValue Of(string expression)
    {
        var (_, context) = Span();
        return Value(context, expression)!;
    }

    private static string Render(AnyValue value) => value.ValueCase switch
    {
        AnyValue.ValueOneofCase.ArrayValue => "[" + string.Join(",", value.ArrayValue.Values.Select(Render)) + "]",
        AnyValue.ValueOneofCase.KvlistValue => "{" + string.Join(",", value.KvlistValue.Values.Select(kv => $"{kv.Key}:{Render(kv.Value)}")) + "}",
        AnyValue.ValueOneofCase.StringValue => $"\"{value.StringValue}\"",
        AnyValue.ValueOneofCase.BoolValue => value.BoolValue ? "true" : "false",
        AnyValue.ValueOneofCase.IntValue => value.IntValue.ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => value.DoubleValue.ToString("0.0##", System.Globalization.CultureInfo.InvariantCulture),
    };

    [Theory]
    [InlineData("SliceToMap(" + Things + ", [\"name\"])", "{foo:{name:\"foo\",value:2.0},bar:{name:\"bar\",value:5.0}}")]
    [InlineData("SliceToMap(" + Things + ")", "{0:{name:\"foo\",value:2.0},1:{name:\"bar\",value:5.0}}")]
    [InlineData("SliceToMap(" + Things + ", [\"name\"], [\"value\"])", "{foo:2.0,bar:5.0}")]
    [InlineData("Sort([3, 1, 2])", "[1,2,3]")]
    [InlineData("Sort([3, 1, 2], \"desc\")", "[3,2,1]")]
    [InlineData("Sort([3, 1.5, 2])", "[1.5,2,3]")]
    [InlineData("Sort([\"b\", \"a\", \"c\"])", "[\"a\",\"b\",\"c\"]")]
    [InlineData("Sort([true, false])", "[false,true]")]
    [InlineData("Sort([\"b\", 1, true])", "[1,\"b\",true]")]
    public void Converters(string expression, string expected) => Assert.Equal(expected, Render(Of(expression)));

    [Theory]
    [InlineData("delete_index(attributes[\"tags\"], 0)", "[\"b\",\"c\",\"d\"]")]
    [InlineData("delete_index(attributes[\"tags\"], 0, 3)", "[\"d\"]")]
    [InlineData("delete_index(attributes[\"tags\"], 1, 1)", "[\"a\",\"b\",\"c\",\"d\"]")]
    [InlineData("delete_index(attributes[\"tags\"], Index(attributes[\"tags\"], \"c\"))", "[\"a\",\"b\",\"d\"]")]
    public void Delete_index(string statement, string expected)
    {
        var (_, context) = Span();
        Run(context, "set(attributes[\"tags\"], [\"a\", \"b\", \"c\", \"d\"])");
        Run(context, statement);
        Assert.Equal(expected, Render(context.Span.Attributes.Get("tags")!));
    }

    [Theory]
    [InlineData("Sort([{\"a\": 1}])")]
    [InlineData("SliceToMap(" + Things + ", [\"missing\"])")]
    [InlineData("SliceToMap(name)")]
    public void Errors(string expression) => Assert.Throws<OttlRuntimeException>(() => Of(expression));

    [Fact]
    public void Delete_index_out_of_range_is_an_error()
    {
        var (_, context) = Span();
        Run(context, "set(attributes[\"tags\"], [\"a\"])");
        Assert.Throws<OttlRuntimeException>(() => Run(context, "delete_index(attributes[\"tags\"], 1)"));
    }
}

/// <summary>Encodings, casing and value picking, on the examples of otelcol's ottlfuncs README.</summary>
public class EncodingAndCaseConverterTests
{
    private static AnyValue? Of(string expression)
    {
        var (_, context) = Span();
        return Value(context, expression);
    }

    [Theory]
    [InlineData("Base64Encode(\"test string\")", "dGVzdCBzdHJpbmc=")]
    [InlineData("Base64Encode(\"test string\", \"base64-raw\")", "dGVzdCBzdHJpbmc")]
    [InlineData("Base64Encode(\"??>\", \"base64-url\")", "Pz8-")]
    [InlineData("Base64Encode(\"??>\")", "Pz8+")]
    [InlineData("Base64Decode(\"aGVsbG8gd29ybGQ=\")", "hello world")]
    [InlineData("Decode(\"aGVsbG8gd29ybGQ=\", \"base64\")", "hello world")]
    [InlineData("Decode(\"aGVsbG8gd29ybGQ\", \"base64-raw\")", "hello world")]
    [InlineData("Decode(\"Pz8-\", \"base64-url\")", "??>")]
    [InlineData("Decode(\"hello\", \"us-ascii\")", "hello")]
    [InlineData("Coalesce([attributes[\"user.id\"], attributes[\"enduser.id\"], \"unknown\"])", "unknown")]
    [InlineData("Coalesce([attributes[\"missing\"], \"first\", \"second\"])", "first")]
    [InlineData("ConvertCase(\"MY_METRIC\", \"lower\")", "my_metric")]
    [InlineData("ConvertCase(\"my_metric\", \"upper\")", "MY_METRIC")]
    [InlineData("ConvertCase(\"myMetric\", \"snake\")", "my_metric")]
    [InlineData("ConvertCase(\"my_metric\", \"camel\")", "MyMetric")]
    [InlineData("ToSnakeCase(\"numbers2and55with000\")", "numbers_2_and_55_with_000")]
    [InlineData("ToSnakeCase(\"HTTPServerRequests\")", "http_server_requests")]
    [InlineData("ToCamelCase(\"my.metric.name\")", "MyMetricName")]
    public void Strings(string expression, string expected) => Assert.Equal(expected, Of(expression)!.StringValue);

    [Theory]
    [InlineData("Bool(\"true\")", true)]
    [InlineData("Bool(\"0\")", false)]
    [InlineData("Bool(\"T\")", true)]
    [InlineData("Bool(2.5)", true)]
    [InlineData("Bool(0)", false)]
    [InlineData("ContainsValue([1, 2, 3, 4, 5], 3)", true)]
    [InlineData("ContainsValue([1.1, 2.2, 3.3, 4.4], 4.4)", true)]
    [InlineData("ContainsValue([\"GET\", \"PUT\", \"POST\"], \"GET\")", true)]
    [InlineData("ContainsValue([\"GET\", \"PUT\", \"POST\"], \"DELETE\")", false)]
    public void Booleans(string expression, bool expected) => Assert.Equal(expected, Of(expression)!.BoolValue);

    [Fact]
    public void Bool_of_an_unparsable_string_is_nil_and_bad_arguments_fail()
    {
        var (_, context) = Span();
        Assert.True(Eval(context, "Bool(\"maybe\") == nil"));
        Assert.Throws<OttlRuntimeException>(() => Of("Base64Decode(\"%%%\")"));
        Assert.Throws<OttlRuntimeException>(() => Of("ContainsValue(name, \"x\")"));
        Assert.Throws<OttlCompileException>(() => Of("ConvertCase(name, \"title\")"));
        Assert.Throws<OttlCompileException>(() => Of("Decode(name, \"no-such-charset\")"));
    }
}

public class IsRootSpanTests
{
    [Fact]
    public void A_span_without_a_parent_is_the_root_and_only_spans_may_ask()
    {
        var (_, context) = Span();
        context.Span.ParentSpanId = Google.Protobuf.ByteString.Empty;
        Assert.True(Eval(context, "IsRootSpan()"));
        context.Span.ParentSpanId = Google.Protobuf.ByteString.CopyFrom(new byte[8]);
        Assert.True(Eval(context, "IsRootSpan()"));
        context.Span.ParentSpanId = Google.Protobuf.ByteString.CopyFrom([1, 2, 3, 4, 5, 6, 7, 8]);
        Assert.False(Eval(context, "IsRootSpan()"));
        Assert.Throws<OttlCompileException>(() => Eval(context, "IsRootSpan()", OttlContextKind.Log));
    }
}
