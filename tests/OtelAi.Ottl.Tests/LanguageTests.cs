using OtelAi.Processors.Ottl;
using OtelAi.Otlp.Proto.Common.V1;
using static OtelAi.Ottl.Tests.OttlTestContext;

namespace OtelAi.Ottl.Tests;

public class LanguageTests
{
    [Theory]
    [InlineData("\"a\\\"b\\\\c\\nd\"", "a\"b\\c\nd")]
    [InlineData("\"\\\\d+\"", "\\d+")]
    [InlineData("\"keep \\s unknown escapes\"", "keep \\s unknown escapes")]
    public void String_literals_unescape(string literal, string expected)
    {
        var (_, context) = Span();
        Assert.Equal(expected, Value(context, literal)!.StringValue);
    }

    [Fact]
    public void Literals_of_every_type()
    {
        var (_, context) = Span();
        Assert.Equal(42, Value(context, "42")!.IntValue);
        Assert.Equal(-7, Value(context, "-7")!.IntValue);
        Assert.Equal(1.5, Value(context, "1.5")!.DoubleValue);
        Assert.Equal(-0.25, Value(context, "-0.25")!.DoubleValue);
        Assert.True(Value(context, "true")!.BoolValue);
        Assert.Equal(new byte[] { 0x01, 0xab }, Value(context, "0x01ab")!.BytesValue.ToByteArray());
        var list = Value(context, "[1, \"two\", [3]]")!.ArrayValue.Values;
        Assert.Equal(1, list[0].IntValue);
        Assert.Equal("two", list[1].StringValue);
        Assert.Equal(3, list[2].ArrayValue.Values[0].IntValue);
        var map = Value(context, "{\"k\": \"v\", \"n\": {\"x\": 1}}")!.KvlistValue.Values;
        Assert.Equal("v", map.Single(kv => kv.Key == "k").Value.StringValue);
        Assert.Equal(1, map.Single(kv => kv.Key == "n").Value.KvlistValue.Values[0].Value.IntValue);
        // nil leaves the target unset.
        Assert.Null(Value(context, "nil"));
    }

    [Theory]
    [InlineData("1 + 2 * 3", 7L)]
    [InlineData("(1 + 2) * 3", 9L)]
    [InlineData("10 - 4 - 3", 3L)]
    [InlineData("7 / 2", 3L)]
    [InlineData("end_time_unix_nano - start_time_unix_nano", 25_000_000L)]
    public void Integer_math_with_precedence(string expression, long expected)
    {
        var (_, context) = Span();
        Assert.Equal(expected, Value(context, expression)!.IntValue);
    }

    [Fact]
    public void Double_math_and_time_math()
    {
        var (_, context) = Span();
        Assert.Equal(25.0, Value(context, "Double(end_time_unix_nano - start_time_unix_nano) / 1000000.0")!.DoubleValue);
        Assert.Equal(2.5, Value(context, "5.0 / 2.0")!.DoubleValue);
        Assert.True(Eval(context, "end_time - start_time > end_time - end_time"));
        Assert.Equal(25_000_000L, Value(context, "UnixNano(start_time + (end_time - start_time)) - start_time_unix_nano")!.IntValue);
    }

    [Fact]
    public void Mixing_int_and_double_is_a_runtime_error_as_in_otelcol()
    {
        var (_, context) = Span();
        var error = Assert.Throws<OttlRuntimeException>(() => Run(context, "set(attributes[\"x\"], 1 + 1.0)"));
        Assert.Contains("int and double cannot be mixed", error.Message);
        Assert.Throws<OttlRuntimeException>(() => Run(context, "set(attributes[\"x\"], 1 / 0)"));
    }

    [Theory]
    // Same-type comparisons.
    [InlineData("1 < 2", true)]
    [InlineData("2 <= 2", true)]
    [InlineData("\"a\" < \"b\"", true)]
    [InlineData("false < true", true)]
    // int and double compare numerically.
    [InlineData("1 == 1.0", true)]
    [InlineData("2 > 1.5", true)]
    // Different types are "not equal": only != is true.
    [InlineData("1 == \"1\"", false)]
    [InlineData("1 != \"1\"", true)]
    [InlineData("1 < \"2\"", false)]
    [InlineData("true == 1", false)]
    // nil equals only nil.
    [InlineData("nil == nil", true)]
    [InlineData("attributes[\"missing\"] == nil", true)]
    [InlineData("attributes[\"http.request.method\"] != nil", true)]
    [InlineData("nil < 1", false)]
    [InlineData("0x0102 == 0x0102", true)]
    [InlineData("[1, 2] == [1, 2]", true)]
    public void Comparison_rules(string condition, bool expected)
    {
        var (_, context) = Span();
        Assert.Equal(expected, Eval(context, condition));
    }

    [Theory]
    [InlineData("true and false", false)]
    [InlineData("true or false", true)]
    [InlineData("not true", false)]
    [InlineData("not (true and false)", true)]
    // and binds tighter than or.
    [InlineData("true or true and false", true)]
    [InlineData("(true or true) and false", false)]
    [InlineData("not name == \"x\"", true)]
    [InlineData("kind == SPAN_KIND_SERVER and status.code == STATUS_CODE_ERROR", true)]
    public void Boolean_expressions(string condition, bool expected)
    {
        var (_, context) = Span();
        Assert.Equal(expected, Eval(context, condition));
    }

    [Fact]
    public void Where_clause_guards_the_editor()
    {
        var (_, context) = Span();
        Assert.False(Run(context, "set(attributes[\"x\"], \"y\") where name == \"z\""));
        Assert.Null(context.Span.Attributes.FirstOrDefault(a => a.Key == "x"));
        Assert.True(Run(context, "set(attributes[\"x\"], \"y\") where name == \"POST /v1/models/llama-0/infer\""));
        Assert.Equal("y", context.Span.Attributes.Single(a => a.Key == "x").Value.StringValue);
    }

    [Fact]
    public void Named_arguments_bind_by_parameter_name()
    {
        var (_, context) = Span();
        Run(context, "set(value = \"named\", target = attributes[\"x\"])");
        Assert.Equal("named", context.Span.Attributes.Single(a => a.Key == "x").Value.StringValue);
        Assert.Equal("a-b", Value(context, "Concat(delimiter = \"-\", vals = [\"a\", \"b\"])")!.StringValue);
    }

    [Fact]
    public void Converter_results_can_be_indexed()
    {
        var (_, context) = Span();
        Assert.Equal("llama", Value(context, "ParseJSON(\"{\\\"model\\\": \\\"llama\\\", \\\"a\\\": [1, {\\\"b\\\": \\\"c\\\"}]}\")[\"model\"]")!.StringValue);
        Assert.Equal("c", Value(context, "ParseJSON(\"{\\\"a\\\": [1, {\\\"b\\\": \\\"c\\\"}]}\")[\"a\"][1][\"b\"]")!.StringValue);
        Assert.Equal("y", Value(context, "Split(\"x,y\", \",\")[1]")!.StringValue);
    }

    public static TheoryData<string, int, string> ParseErrors => new()
    {
        // statement, expected 1-based column, expected text in the message
        { "set(attributes[\"x\"], \"y\"", 25, "expected ')' but found end of statement" },
        { "set(attributes[\"x\"] \"y\")", 21, "expected ')'" },
        { "set(attributes[\"x\"], \"y) where", 22, "unterminated string" },
        { "Set(attributes[\"x\"], 1)", 1, "editor" },
        { "attributes[\"x\"]", 1, "must start with an editor" },
        { "set(attributes[\"x\"], 1) where", 30, "value is missing" },
        { "set(attributes[\"x\"], 1) where name = \"a\"", 36, "unexpected '='" },
        { "set(attributes[\"x\"], 1) whence name == \"a\"", 25, "unexpected 'whence'" },
        { "set(attributes[\"x\"], 0x123)", 22, "even number of hex digits" },
        { "set(attributes[\"x\"], 1 # 2)", 24, "unexpected character '#'" },
    };

    [Theory]
    [MemberData(nameof(ParseErrors))]
    public void Parse_errors_show_the_statement_and_a_caret_at_the_column(string statement, int column, string problem)
    {
        var error = Assert.Throws<OttlCompileException>(() => OttlLanguage.CompileStatement(statement, OttlContextKind.Span));
        Assert.Equal(column, error.Column);
        Assert.Contains(problem, error.Message);
        var lines = error.Message.Split('\n');
        Assert.Equal("  " + statement, lines[1]);
        Assert.Equal(column + 2, lines[2].IndexOf('^') + 1);
    }

    public static TheoryData<string, int, string> CompileErrors => new()
    {
        { "sett(attributes[\"x\"], 1)", 1, "unknown editor \"sett\"" },
        { "set(attributes[\"x\"], Conkat([\"a\"], \"\"))", 22, "unknown converter \"Conkat\"" },
        { "set(atributes[\"x\"], 1)", 5, "unknown path \"atributes\"" },
        { "set(attributes[\"x\"], body)", 22, "unknown path \"body\" in the span context" },
        { "set(attributes[\"x\"], 1) where kind == SPAN_KIND_SERVR", 39, "unknown enum" },
        { "set(attributes[\"x\"])", 1, "set needs 2 argument(s)" },
        { "set(attributes[\"x\"], 1, 2)", 25, "at most 2 argument(s)" },
        { "set(\"x\", 1)", 5, "must be a path" },
        { "set(kind.string, \"x\")", 5, "read-only" },
        { "keep_keys(attributes, \"a\")", 23, "list of string literals" },
        { "delete_key(attributes, attributes[\"k\"])", 24, "string literal" },
        { "limit(attributes, \"3\", [])", 19, "int literal" },
        { "replace_pattern(name, \"(\", \"x\")", 23, "invalid regex" },
        { "replace_all_patterns(attributes, \"keys\", \"a\", \"b\")", 34, "mode must be \"key\" or \"value\"" },
        { "merge_maps(attributes, attributes, \"merge\")", 36, "strategy must be insert, update or upsert" },
        { "set(attributes[\"x\"], set(name, \"a\"))", 22, "cannot be used as a value" },
        { "set(attributes[\"x\"], log.body)", 22, "not available in the span context" },
        { "set(attributes[\"x\"], 1) where 1 + 1", 31, "expected a boolean expression" },
        { "set(x = attributes[\"x\"], value = 1)", 5, "no parameter named \"x\"" },
        { "limit(attributes, 1, [\"a\", \"b\"])", 22, "exceed the limit" },
    };

    [Theory]
    [MemberData(nameof(CompileErrors))]
    public void Unknown_names_and_wrong_arguments_are_compile_errors_with_column(string statement, int column, string problem)
    {
        var error = Assert.Throws<OttlCompileException>(() => OttlLanguage.CompileStatement(statement, OttlContextKind.Span));
        Assert.Contains(problem, error.Message);
        Assert.Equal(column, error.Column);
    }

    [Fact]
    public void Context_inference_picks_the_most_specific_context_named()
    {
        Assert.Equal(OttlContextKind.DataPoint, OttlLanguage.InferContext(OtelAi.Otlp.Signal.Metrics,
            ["set(metric.description, \"test passed\") where datapoint.attributes[\"test\"] == \"pass\""], []));
        Assert.Equal(OttlContextKind.Metric, OttlLanguage.InferContext(OtelAi.Otlp.Signal.Metrics,
            ["set(resource.attributes[\"test\"], \"passed\")", "set(metric.description, \"test passed\")"], []));
        Assert.Equal(OttlContextKind.Resource, OttlLanguage.InferContext(OtelAi.Otlp.Signal.Traces,
            ["set(resource.attributes[\"a\"], \"b\")"], []));
        Assert.Equal(OttlContextKind.SpanEvent, OttlLanguage.InferContext(OtelAi.Otlp.Signal.Traces,
            ["set(spanevent.attributes[\"a\"], span.name)"], []));
        var missing = Assert.Throws<OttlCompileException>(() => OttlLanguage.InferContext(OtelAi.Otlp.Signal.Logs, ["set(attributes[\"a\"], 1)"], []));
        Assert.Contains("missing context name", missing.Message);
        var wrong = Assert.Throws<OttlCompileException>(() => OttlLanguage.InferContext(OtelAi.Otlp.Signal.Logs, ["set(span.attributes[\"a\"], 1)"], []));
        Assert.Contains("not allowed in logs statements", wrong.Message);
    }

    [Fact]
    public void Condition_that_is_not_a_bool_at_run_time_is_an_error()
    {
        var (_, context) = Span();
        var condition = OttlLanguage.CompileCondition("attributes[\"http.request.method\"]", OttlContextKind.Span);
        Assert.Throws<OttlRuntimeException>(() => condition.Evaluate(context));
        Assert.True(Eval(context, "attributes[\"ok\"]"));
    }
}
