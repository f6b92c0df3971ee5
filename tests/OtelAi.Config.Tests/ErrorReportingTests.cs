using OtelAi.Engine.Config;

namespace OtelAi.Config.Tests;

/// <summary>One test per kind of config error: the path, the file:line:column and what the message says is expected.</summary>
public class ErrorReportingTests
{
    [Fact]
    public void YamlSyntaxErrorNamesFileLineAndColumn()
    {
        var error = TestLoad.SingleError("""
            receivers:
              otlp:
                protocols: {grpc: }
               http:
            """);
        Assert.Equal("", error.KeyPath);
        Assert.Equal(TestLoad.At(4, 4), error.Location);
        Assert.StartsWith("invalid YAML: ", error.Message);
        Assert.DoesNotContain("Line:", error.Message);
    }

    [Fact]
    public void UnclosedFlowListIsASyntaxError()
    {
        var error = TestLoad.SingleError("""
            receivers:
              otlp:
                protocols: [grpc
            processors: {}
            """);
        Assert.Equal("invalid YAML: cannot parse past this point; is a [ or { left unclosed?", error.Message);
        Assert.Equal(TestLoad.At(3, 16), error.Location);
    }

    [Fact]
    public void ATabDeepInTheFileIsReportedOnItsOwnLine()
    {
        // YamlDotNet places this error where the enclosing mapping starts (1:1).
        var error = TestLoad.SingleError("receivers:\n  otlp:\n    protocols:\n\t  grpc:\n");
        Assert.Equal("invalid YAML: a tab character indents this line; YAML is indented with spaces", error.Message);
        Assert.Equal(TestLoad.At(4, 1), error.Location);
    }

    [Fact]
    public void TabIndentationIsExplained()
    {
        var error = TestLoad.SingleError("processors:\n\tbatch:\n");
        Assert.Equal("invalid YAML: a tab character indents this line; YAML is indented with spaces", error.Message);
        Assert.Equal(TestLoad.At(2, 1), error.Location);
    }

    [Fact]
    public void NestedAliasesThatExpandWithoutEndAreRefused()
    {
        // "Billion laughs": ten levels of ten aliases each would be 10^10 nodes.
        var lines = new List<string> { "a0: &a0 [x, x, x, x, x, x, x, x, x, x]" };
        for (var i = 1; i <= 9; i++) lines.Add($"a{i}: &a{i} [{string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 10))}]");
        lines.Add("receivers: {otlp: {protocols: {grpc: *a9}}}");
        var error = TestLoad.SingleError(string.Join("\n", lines));
        Assert.Contains("expands to more than 200,000 nodes", error.Message);
    }

    [Fact]
    public void ValidateThatThrowsOnABadValueIsReportedAsAnError()
    {
        var exception = Assert.Throws<ConfigException>(() => ConfigLoader.Bind<PatternTestConfig>("pattern: \"([a-z\""));
        var error = Assert.Single(exception.Issues);
        Assert.StartsWith("invalid configuration: Invalid pattern '([a-z'", error.Message);
    }

    [Fact]
    public void DuplicateKeyIsAnError()
    {
        var error = TestLoad.SingleError("""
            processors:
              batch:
              batch:
            """);
        Assert.Equal(TestLoad.At(3, 3), error.Location);
        Assert.Contains("duplicate key", error.Message);
    }

    [Fact]
    public void UnknownTopLevelKeySuggestsTheClosest()
    {
        var error = TestLoad.SingleError("""
            recievers:
              otlp:
            """);
        Assert.Equal("recievers", error.KeyPath);
        Assert.Equal(TestLoad.At(1, 1), error.Location);
        Assert.Equal("unknown key \"recievers\"; valid keys: connectors, exporters, extensions, processors, receivers, service (did you mean \"receivers\"?)", error.Message);
    }

    [Fact]
    public void UnknownComponentTypeListsTheKnownTypesOfThatKind()
    {
        var error = TestLoad.SingleError("""
            exporters:
              debug:
              otlphtp/backend:
                endpoint: http://x
            """);
        Assert.Equal("exporters.otlphtp/backend", error.KeyPath);
        Assert.Equal(TestLoad.At(3, 3), error.Location);
        Assert.Equal("unknown exporter type \"otlphtp\"; known exporter types: debug, file, otlp_http, otlphttp (did you mean \"otlphttp\"?)", error.Message);
    }

    [Fact]
    public void InvalidComponentIdIsAnError()
    {
        var error = TestLoad.SingleError("""
            processors:
              batch/:
            """);
        Assert.Equal("processors.batch/", error.KeyPath);
        Assert.Equal(TestLoad.At(2, 3), error.Location);
        Assert.Contains("invalid component name", error.Message);
    }

    [Fact]
    public void UnknownKeyInsideAComponentListsTheValidKeys()
    {
        var error = TestLoad.SingleError("""
            processors:
              batch/fast:
                timout: 1s
            """);
        Assert.Equal("processors.batch/fast.timout", error.KeyPath);
        Assert.Equal(TestLoad.At(3, 5), error.Location);
        Assert.Equal("unknown key \"timout\"; valid keys: send_batch_max_size, send_batch_size, timeout (did you mean \"timeout\"?)", error.Message);
    }

    [Fact]
    public void WrongScalarTypeSaysWhatIsExpected()
    {
        var error = TestLoad.SingleError("""
            receivers:
              otlp:
                protocols:
                  grpc:
                    max_recv_msg_size_mib: abc
            """);
        Assert.Equal("receivers.otlp.protocols.grpc.max_recv_msg_size_mib", error.KeyPath);
        Assert.Equal(TestLoad.At(5, 32), error.Location);
        Assert.Equal("expected an integer, got \"abc\"", error.Message);
        Assert.Equal("config.yaml:5:32: receivers.otlp.protocols.grpc.max_recv_msg_size_mib: expected an integer, got \"abc\"", error.ToString());
    }

    [Fact]
    public void MappingWhereAScalarIsExpectedIsAnError()
    {
        var error = TestLoad.SingleError("""
            exporters:
              file:
                path:
                  nested: value
            """);
        Assert.Equal("exporters.file.path", error.KeyPath);
        Assert.Equal(TestLoad.At(4, 7), error.Location);
        Assert.Equal("expected a string, got a mapping", error.Message);
    }

    [Fact]
    public void ValueOutsideItsRangeGivesTheRange()
    {
        var error = TestLoad.SingleError("""
            receivers:
              otlp:
                protocols:
                  grpc:
                    max_recv_msg_size_mib: 4096
            """);
        Assert.Equal(TestLoad.At(5, 32), error.Location);
        Assert.Equal("must be between 1 and 1024, got 4096", error.Message);
    }

    [Fact]
    public void InvalidEnumValueListsTheAllowedValues()
    {
        var error = TestLoad.SingleError("""
            exporters:
              debug:
                verbosity: detialed
            """);
        Assert.Equal("exporters.debug.verbosity", error.KeyPath);
        Assert.Equal(TestLoad.At(3, 16), error.Location);
        Assert.Equal("expected one of basic, normal, detailed, got \"detialed\" (did you mean \"detailed\"?)", error.Message);
    }

    [Fact]
    public void InvalidDurationShowsTheSyntax()
    {
        var error = TestLoad.SingleError("""
            processors:
              batch:
                timeout: 5 seconds
            """);
        Assert.Equal(TestLoad.At(3, 14), error.Location);
        Assert.Equal("expected a duration such as \"5s\", \"200ms\" or \"1m30s\", got \"5 seconds\"", error.Message);
    }

    [Fact]
    public void ComponentValidateErrorsArePrefixedWithTheComponentPath()
    {
        var error = TestLoad.SingleError("""
            processors:
              batch:
                send_batch_size: 100
                send_batch_max_size: 10
            """);
        Assert.Equal("processors.batch.send_batch_max_size", error.KeyPath);
        Assert.Equal(TestLoad.At(4, 5), error.Location);
        Assert.Equal("must be greater than or equal to send_batch_size", error.Message);
    }

    [Fact]
    public void ValidateErrorOnAnAbsentKeyPointsAtTheComponent()
    {
        var error = TestLoad.SingleError("""
            processors:
              memory_limiter:
                limit_mib: 100
            """);
        Assert.Equal("processors.memory_limiter.check_interval", error.KeyPath);
        Assert.Equal(TestLoad.At(2, 3), error.Location);
        Assert.Equal("must be greater than zero", error.Message);
    }

    [Fact]
    public void InvalidPipelineIdSaysWhatIsExpected()
    {
        var error = TestLoad.SingleError("""
            service:
              pipelines:
                trace/main:
                  receivers: [otlp]
            """);
        Assert.Equal("service.pipelines.trace/main", error.KeyPath);
        Assert.Equal(TestLoad.At(3, 5), error.Location);
        Assert.Equal("invalid pipeline id \"trace/main\": expected traces, metrics or logs, optionally followed by /name (did you mean \"traces\"?)", error.Message);
    }

    [Fact]
    public void UnknownPipelineKeyListsTheValidKeys()
    {
        var error = TestLoad.SingleError("""
            service:
              pipelines:
                traces:
                  receivers: [otlp]
                  exporter: [debug]
            """);
        Assert.Equal("service.pipelines.traces.exporter", error.KeyPath);
        Assert.Equal(TestLoad.At(5, 7), error.Location);
        Assert.Equal("unknown key \"exporter\"; valid keys: exporters, processors, receivers (did you mean \"exporters\"?)", error.Message);
    }

    [Fact]
    public void InvalidComponentIdInAPipelineIsAnError()
    {
        var error = TestLoad.SingleError("""
            service:
              pipelines:
                traces:
                  receivers: [otlp, 9lives]
            """);
        Assert.Equal("service.pipelines.traces.receivers[1]", error.KeyPath);
        Assert.Equal(TestLoad.At(4, 25), error.Location);
        Assert.StartsWith("expected a component id (type or type/name): invalid component type \"9lives\"", error.Message);
    }

    [Fact]
    public void UnknownServiceKeyIsAnError()
    {
        var error = TestLoad.SingleError("""
            service:
              pipeline:
                traces:
            """);
        Assert.Equal("service.pipeline", error.KeyPath);
        Assert.Equal(TestLoad.At(2, 3), error.Location);
        Assert.Equal("unknown key \"pipeline\"; valid keys: extensions, pipelines, telemetry, shutdown_timeout (did you mean \"pipelines\"?)", error.Message);
    }

    [Fact]
    public void SectionThatIsNotAMappingIsAnError()
    {
        var error = TestLoad.SingleError("""
            receivers: [otlp]
            """);
        Assert.Equal("receivers", error.KeyPath);
        Assert.Equal(TestLoad.At(1, 12), error.Location);
        Assert.Equal("expected a mapping of receiver ids (type or type/name) to their configs, got a list", error.Message);
    }

    [Fact]
    public void InvalidTelemetryLevelListsTheLevels()
    {
        var error = TestLoad.SingleError("""
            service:
              telemetry:
                logs:
                  level: verbose
            """);
        Assert.Equal("service.telemetry.logs.level", error.KeyPath);
        Assert.Equal(TestLoad.At(4, 14), error.Location);
        Assert.Equal("expected one of debug, info, warn, error, got \"verbose\"", error.Message);
    }

    [Fact]
    public void UnsupportedExpansionSchemeIsAnError()
    {
        var error = TestLoad.SingleError("""
            exporters:
              file:
                path: ${file:/etc/path}
            """);
        Assert.Equal("exporters.file.path", error.KeyPath);
        Assert.Equal(TestLoad.At(3, 11), error.Location);
        Assert.StartsWith("unsupported expansion scheme \"file\" in \"${file:/etc/path}\"", error.Message);
    }

    [Fact]
    public void InvalidEnvVarNameIsAnError()
    {
        var error = TestLoad.SingleError("""
            exporters:
              file:
                path: /data/${env:MY-DIR}/out.json
            """);
        Assert.Equal(TestLoad.At(3, 11), error.Location);
        Assert.Equal("environment variable \"MY-DIR\" has an invalid name: must match ^[a-zA-Z_][a-zA-Z0-9_]*$", error.Message);
    }

    [Fact]
    public void SetWithoutEqualsSignIsAnError()
    {
        var error = TestLoad.SingleError("processors: {batch: }", sets: ["processors.batch.timeout"]);
        Assert.Equal(new SourceLocation("--set", 1, 1), error.Location);
        Assert.Contains("missing \"=\"", error.Message);
    }

    [Fact]
    public void MissingConfigFileIsAnError()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"otelai-missing-{Guid.NewGuid():N}.yaml");
        var exception = Assert.Throws<ConfigException>(() => ConfigLoader.LoadFiles([missing], TestRegistry.Create()));
        var error = Assert.Single(exception.Issues);
        Assert.StartsWith($"cannot read config file \"{missing}\"", error.Message);
    }

    [Fact]
    public void EveryErrorOfAConfigIsReportedAtOnce()
    {
        var errors = TestLoad.Errors("""
            receivers:
              otlpp:
            processors:
              batch:
                timeout: soon
                send_batch_size: many
            exporters:
              debug:
                verbosity: loud
            service:
              pipelines:
                spans:
            """);
        Assert.Equal(
            ["receivers.otlpp", "processors.batch.timeout", "processors.batch.send_batch_size", "exporters.debug.verbosity", "service.pipelines.spans"],
            errors.Select(e => e.KeyPath));
        Assert.All(errors, e => Assert.NotNull(e.Location));
    }
}
