using Google.Protobuf;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Consumers;
using OtelAi.Otlp;
using OtelAi.Processors;
using OtelAi.Receivers;
using OtelAi.Exporters;
using OtelAi.Processors.Transform;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.TestSupport;

namespace OtelAi.Ottl.Tests;

public class TransformProcessorTests
{
    private static async Task<T> Process<T>(string yaml, T data) where T : class, IMessage<T>, new()
    {
        var config = ConfigLoader.Bind<TransformConfig>(yaml);
        var next = new Sink<T>();
        var factory = new TransformProcessorFactory();
        var processor = factory.CreateProcessor(TestSettings.For(new ComponentId("transform"), ComponentKind.Processor), config, next);
        Assert.True(processor.Capabilities.MutatesData);
        await processor.StartAsync(new TestHost(), CancellationToken.None);
        await processor.ConsumeAsync(data, CancellationToken.None);
        await processor.ShutdownAsync(CancellationToken.None);
        return Assert.Single(next.Payloads);
    }

    private static KeyValue Attr(string key, string value) => SampleData.Attr(key, value);

    [Fact]
    public async Task Ai_playbook_statements_work_as_written()
    {
        var data = SampleData.Traces(2);
        foreach (var span in data.ResourceSpans[0].ScopeSpans[0].Spans)
        {
            span.Attributes.Add(Attr("http.request.body", "{\"model\": \"llama-3-8b\", \"prompt\": \"hi\"}"));
            span.Attributes.Add(Attr("http.request.header.x-gpu-mem", "20480"));
        }
        const string yaml = """
            trace_statements:
              - context: span
                statements:
                  - set(attributes["model_id"], ParseJSON(attributes["http.request.body"])["model"])
                  - set(attributes["inference_time"], Double(end_time_unix_nano - start_time_unix_nano) / 1000000.0)
                  - set(attributes["gpu_mem_used"], Int(attributes["http.request.header.x-gpu-mem"]))
            """;
        var result = await Process(yaml, data);
        foreach (var span in result.ResourceSpans[0].ScopeSpans[0].Spans)
        {
            Assert.Equal("llama-3-8b", span.Attributes.Get("model_id")!.StringValue);
            Assert.Equal(25.0, span.Attributes.Get("inference_time")!.DoubleValue);
            Assert.Equal(20480, span.Attributes.Get("gpu_mem_used")!.IntValue);
        }
    }

    [Fact]
    public async Task Basic_config_infers_contexts_from_path_prefixes()
    {
        // otelcol README's basic config example (the statements our function set covers).
        var data = SampleData.Traces(2);
        var first = data.ResourceSpans[0].ScopeSpans[0].Spans[0];
        first.Attributes.Add(Attr("process.command_line", "serve --password=hunter2 --port 1"));
        first.Attributes.Add(Attr("service.name", "svc"));
        first.Attributes.Add(Attr("long", new string('x', 5000)));
        const string yaml = """
            error_mode: ignore
            trace_statements:
              - limit(span.attributes, 100, [])
              - truncate_all(span.attributes, 4096)
              - replace_pattern(span.attributes["process.command_line"], "password\\=[^\\s]*(\\s?)", "password=***")
              - keep_keys(span.attributes, ["service.name", "service.namespace", "cloud.region", "process.command_line"])
              - set(resource.attributes["touched"], true)
            """;
        var result = await Process(yaml, data);
        var span = result.ResourceSpans[0].ScopeSpans[0].Spans[0];
        Assert.Equal(["process.command_line", "service.name"], span.Attributes.Select(a => a.Key).Order());
        Assert.Equal("serve --password=***--port 1", span.Attributes.Get("process.command_line")!.StringValue);
        Assert.True(result.ResourceSpans[0].Resource.Attributes.Get("touched")!.BoolValue);
        Assert.Empty(result.ResourceSpans[0].ScopeSpans[0].Spans[1].Attributes);
    }

    [Fact]
    public async Task Readme_examples_missing_field_rename_and_combine()
    {
        var data = SampleData.Traces(1);
        var resource = data.ResourceSpans[0].Resource;
        resource.Attributes.Add(Attr("k8s.namespace.name", "ml"));
        resource.Attributes.Add(Attr("foo", "a"));
        resource.Attributes.Add(Attr("bar", "b"));
        const string yaml = """
            error_mode: ignore
            trace_statements:
              - set(span.attributes["test"], "pass") where span.attributes["test"] == nil
              - set(resource.attributes["namespace"], resource.attributes["k8s.namespace.name"])
              - delete_key(resource.attributes, "k8s.namespace.name")
              - set(resource.attributes["test"], Concat([resource.attributes["foo"], resource.attributes["bar"]], " "))
              - replace_all_patterns(resource.attributes, "key", "^foo$", "renamed_foo")
            """;
        var result = await Process(yaml, data);
        var attributes = result.ResourceSpans[0].Resource.Attributes;
        Assert.Equal("pass", result.ResourceSpans[0].ScopeSpans[0].Spans[0].Attributes.Get("test")!.StringValue);
        Assert.Equal("ml", attributes.Get("namespace")!.StringValue);
        Assert.Null(attributes.Get("k8s.namespace.name"));
        Assert.Equal("a b", attributes.Get("test")!.StringValue);
        Assert.Equal("a", attributes.Get("renamed_foo")!.StringValue);
    }

    [Fact]
    public async Task Readme_metric_and_log_examples()
    {
        const string metricsYaml = """
            error_mode: ignore
            metric_statements:
              - keep_keys(resource.attributes, ["host.name"])
              - truncate_all(resource.attributes, 4096)
              - set(metric.description, "Sum") where metric.type == METRIC_DATA_TYPE_SUM
              - set(metric.description, "test passed") where datapoint.attributes["route"] == "/r1"
            """;
        var metrics = await Process(metricsYaml, SampleData.Metrics(6));
        var rm = metrics.ResourceMetrics[0];
        Assert.Equal(["host.name"], rm.Resource.Attributes.Select(a => a.Key));
        Assert.Equal("test passed", rm.ScopeMetrics[0].Metrics.Single(m => m.Name == "requests").Description);
        Assert.Equal("", rm.ScopeMetrics[0].Metrics.Single(m => m.Name == "latency").Description);

        var logs = SampleData.Logs(2);
        var record = logs.ResourceLogs[0].ScopeLogs[0].LogRecords[0];
        record.Body = new AnyValue { StringValue = "request failed" };
        record.Attributes.Add(Attr("http.route", "/user/12/list/34"));
        record.Attributes.Add(Attr("account", "/account/1234"));
        const string logsYaml = """
            error_mode: ignore
            log_statements:
              - set(log.severity_text, "FAIL") where log.body == "request failed"
              - replace_all_matches(log.attributes, "/user/*/list/*", "/user/{userId}/list/{listId}")
              - replace_all_patterns(log.attributes, "value", "/account/\\d{4}", "/account/{accountId}")
              - set(log.body, log.attributes["http.route"])
            """;
        var result = (await Process(logsYaml, logs)).ResourceLogs[0].ScopeLogs[0].LogRecords[0];
        Assert.Equal("FAIL", result.SeverityText);
        Assert.Equal("/user/{userId}/list/{listId}", result.Attributes.Get("http.route")!.StringValue);
        Assert.Equal("/account/{accountId}", result.Attributes.Get("account")!.StringValue);
        Assert.Equal("/user/{userId}/list/{listId}", result.Body.StringValue);
    }

    [Fact]
    public async Task Readme_advanced_examples_parse_json_with_cache_and_group_conditions()
    {
        var logs = SampleData.Logs(2);
        var records = logs.ResourceLogs[0].ScopeLogs[0].LogRecords;
        records[0].Body = new AnyValue { StringValue = "{\"name\": \"log\", \"attr1\": \"foo\", \"attr2\": \"bar\", \"nested\": {\"attr3\": \"example\"}}" };
        records[1].Body = new AnyValue { StringValue = "[2023-09-22 07:38:22,570] INFO [Something]: some interesting log" };
        records[1].SeverityNumber = OtelAi.Otlp.Proto.Logs.V1.SeverityNumber.Unspecified;
        const string yaml = """
            error_mode: propagate
            log_statements:
              - error_mode: ignore
                statements:
                  - merge_maps(log.cache, ParseJSON(log.body), "upsert") where IsMatch(log.body, "^\\{")
                  - set(log.attributes["attr1"], log.cache["attr1"])
                  - set(log.attributes["attr2"], log.cache["attr2"])
                  - set(log.attributes["nested.attr3"], log.cache["nested"]["attr3"])
              - statements:
                  - set(log.severity_number, SEVERITY_NUMBER_INFO) where IsString(log.body) and IsMatch(log.body, "\\sINFO\\s")
                  - set(log.severity_number, SEVERITY_NUMBER_WARN) where IsString(log.body) and IsMatch(log.body, "\\sWARN\\s")
              - context: log
                conditions:
                  - IsMap(body) and body["object"] != nil
                statements:
                  - set(body, attributes["http.route"])
              - context: resource
                statements:
                  - set(cache["attrs"], attributes)
                  - keep_matching_keys(cache["attrs"], "^host\\.")
                  - set(attributes["kubernetes.labels"], cache["attrs"])
            """;
        var result = await Process(yaml, logs);
        var parsed = result.ResourceLogs[0].ScopeLogs[0].LogRecords[0];
        Assert.Equal("foo", parsed.Attributes.Get("attr1")!.StringValue);
        Assert.Equal("bar", parsed.Attributes.Get("attr2")!.StringValue);
        Assert.Equal("example", parsed.Attributes.Get("nested.attr3")!.StringValue);
        var plain = result.ResourceLogs[0].ScopeLogs[0].LogRecords[1];
        Assert.Null(plain.Attributes.Get("attr1"));
        Assert.Equal(OtelAi.Otlp.Proto.Logs.V1.SeverityNumber.Info, plain.SeverityNumber);
        // The group condition (body is a map with "object") matched nothing, so bodies stay.
        Assert.StartsWith("{", parsed.Body.StringValue);
        var labels = result.ResourceLogs[0].Resource.Attributes.Get("kubernetes.labels")!.KvlistValue.Values;
        Assert.Equal(["host.name"], labels.Select(l => l.Key));
    }

    [Fact]
    public async Task Spanevent_scope_and_datapoint_contexts_run_per_item()
    {
        const string yaml = """
            trace_statements:
              - context: spanevent
                statements:
                  - set(attributes["span"], span.name)
              - context: scope
                statements:
                  - set(attributes["seen"], true)
            metric_statements:
              - context: datapoint
                statements:
                  - set(attributes["metric"], metric.name)
            """;
        var traces = await Process(yaml, SampleData.Traces(3));
        foreach (var span in traces.ResourceSpans[0].ScopeSpans[0].Spans)
            Assert.Equal(span.Name, span.Events[0].Attributes.Get("span")!.StringValue);
        Assert.True(traces.ResourceSpans[0].ScopeSpans[0].Scope.Attributes.Get("seen")!.BoolValue);
        var metrics = await Process(yaml, SampleData.Metrics(6));
        foreach (var metric in metrics.ResourceMetrics[0].ScopeMetrics[0].Metrics)
        {
            var attributes = metric.DataCase switch
            {
                OtelAi.Otlp.Proto.Metrics.V1.Metric.DataOneofCase.Gauge => metric.Gauge.DataPoints.Select(p => p.Attributes),
                OtelAi.Otlp.Proto.Metrics.V1.Metric.DataOneofCase.Sum => metric.Sum.DataPoints.Select(p => p.Attributes),
                _ => metric.Histogram.DataPoints.Select(p => p.Attributes),
            };
            Assert.All(attributes, a => Assert.Equal(metric.Name, a.Get("metric")!.StringValue));
        }
    }

    [Fact]
    public async Task Error_mode_ignore_continues_with_the_next_statement()
    {
        const string yaml = """
            error_mode: ignore
            trace_statements:
              - set(span.attributes["bad"], span.attributes["http.request.method"] + 1)
              - set(span.attributes["after"], "ran")
            """;
        var result = await Process(yaml, SampleData.Traces(1));
        var span = result.ResourceSpans[0].ScopeSpans[0].Spans[0];
        Assert.Null(span.Attributes.Get("bad"));
        Assert.Equal("ran", span.Attributes.Get("after")!.StringValue);
    }

    [Fact]
    public async Task Error_mode_propagate_refuses_the_payload_with_a_clear_permanent_error()
    {
        const string yaml = """
            error_mode: ignore
            trace_statements:
              - error_mode: propagate
                statements:
                  - set(span.attributes["bad"], ParseJSON(span.attributes["http.request.method"]))
            """;
        var error = await Assert.ThrowsAsync<PermanentDataException>(() => Process(yaml, SampleData.Traces(1)));
        Assert.Contains("set(span.attributes[\"bad\"], ParseJSON(span.attributes[\"http.request.method\"]))", error.Message);
        Assert.Contains("ParseJSON: invalid JSON", error.Message);
    }

    [Fact]
    public void Bad_statements_are_config_errors_with_path_and_column()
    {
        const string yaml = """
            trace_statements:
              - context: span
                statements:
                  - set(attributes["ok"], true)
                  - set(attributes["x"], Nope(name))
              - set(attributes["y"], 1)
              - context: datapoint
                statements: [ 'set(attributes["x"], 1)' ]
            metric_statements:
              - statements: [ 'set(metric.name, "a"' ]
            log_statements:
              - context: log
                conditions: [ 'body ==' ]
                statements: [ 'set(attributes["a"], 1)' ]
            """;
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.Bind<TransformConfig>(yaml));
        var text = error.Message;
        Assert.Contains("trace_statements[0].statements[1]", text);
        Assert.Contains("unknown converter \"Nope\" at column 22", text);
        Assert.Contains("trace_statements[1]", text);
        Assert.Contains("missing context name for path \"attributes\" (write e.g. span.attributes, or set the group's context) at column 5", text);
        Assert.Contains("trace_statements[2].context", text);
        Assert.Contains("invalid context \"datapoint\"", text);
        Assert.Contains("metric_statements[0].statements[0]", text);
        Assert.Contains("expected ')'", text);
        Assert.Contains("log_statements[0].conditions[0]", text);
        // The caret line points under the problem.
        Assert.Contains("set(attributes[\"x\"], Nope(name))\n", text);
    }

    [Fact]
    public void Whole_config_load_reports_statement_errors_under_the_processor_key_before_start()
    {
        const string yaml = """
            receivers:
              otlp:
                protocols:
                  grpc:
            processors:
              transform/ai:
                trace_statements:
                  - context: span
                    statements:
                      - set(attributes["inference_time"], Double(end_time_unix_nano - start_time_unix_nano) / 1000000.0)
                      - set(attributes["gpu_mem_used"], Int(attribute["x-gpu-mem"]))
              filter:
                traces:
                  span: [ 'name == ' ]
            exporters:
              debug:
            service:
              pipelines:
                traces:
                  receivers: [otlp]
                  processors: [transform/ai, filter]
                  exporters: [debug]
            """;
        var registry = new ComponentRegistry().AddEngineComponents().AddReceivers().AddProcessors().AddExporters();
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.Load([new ConfigSource("otelai.yaml", yaml)], registry));
        var transformIssue = Assert.Single(error.Issues, i => i.KeyPath.Contains("transform/ai"));
        Assert.EndsWith("trace_statements[0].statements[1]", transformIssue.KeyPath);
        Assert.Contains("unknown path \"attribute\" in the span context at column 37", transformIssue.Message);
        Assert.Equal("otelai.yaml", transformIssue.Location?.File);
        Assert.Contains(error.Issues, i => i.KeyPath.EndsWith("traces.span[0]") && i.Message.Contains("a value is missing"));
    }

    [Fact]
    public void Defaults_match_otelcol()
    {
        var config = ConfigLoader.Bind<TransformConfig>("");
        Assert.Equal(Processors.Ottl.ErrorMode.Ignore, config.ErrorMode);
        Assert.Empty(ConfigValidation.Validate(config));
        var factory = new TransformProcessorFactory();
        Assert.Equal("transform", factory.Type);
        Assert.Equal(StabilityLevel.Beta, factory.Stability[Signal.Traces]);
        Assert.Contains(new ComponentRegistry().AddProcessors().Factories(ComponentKind.Processor), f => f is TransformProcessorFactory);
    }
}
