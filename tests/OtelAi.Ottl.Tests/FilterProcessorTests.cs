using Google.Protobuf;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Consumers;
using OtelAi.Otlp;
using OtelAi.Processors;
using OtelAi.Processors.Filter;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Metrics.V1;
using OtelAi.Otlp.Proto.Resource.V1;
using OtelAi.TestSupport;

namespace OtelAi.Ottl.Tests;

public class FilterProcessorTests
{
    private sealed record Run<T>(IReadOnlyList<T> Received, ComponentCreateSettings Settings)
    {
        public double Dropped(Signal signal) =>
            Settings.Metrics.Read($"otelcol_processor_dropped_{signal.ItemName()}", ("processor", "filter")) ?? 0;
    }

    private static async Task<Run<T>> Process<T>(string yaml, T data) where T : class, IMessage<T>, new()
    {
        var config = ConfigLoader.Bind<FilterConfig>(yaml);
        var next = new Sink<T>();
        var settings = TestSettings.For(new ComponentId("filter"), ComponentKind.Processor);
        var processor = new FilterProcessorFactory().CreateProcessor(settings, config, next);
        await processor.StartAsync(new TestHost(), CancellationToken.None);
        await processor.ConsumeAsync(data, CancellationToken.None);
        await processor.ShutdownAsync(CancellationToken.None);
        return new Run<T>(next.Payloads, settings);
    }

    /// <summary>Two resources: one from the README's examples that should be dropped entirely, one kept in part.</summary>
    private static ExportTraceServiceRequest ReadmeTraces()
    {
        var data = SampleData.Traces(4);
        var spans = data.ResourceSpans[0].ScopeSpans[0].Spans;
        spans[0].Attributes.Add(SampleData.Attr("container.name", "app_container_1"));
        spans[1].Name = "app_3";
        spans[2].Events.Add(new OtelAi.Otlp.Proto.Trace.V1.Span.Types.Event { Name = "grpc.call", Attributes = { SampleData.Attr("x", 1L) } });
        spans[2].Events.Add(new OtelAi.Otlp.Proto.Trace.V1.Span.Types.Event { Name = "plain", Attributes = { SampleData.Attr("grpc", true) } });
        var localhost = SampleData.Traces(2, seed: 7).ResourceSpans[0];
        localhost.Resource.Attributes.Add(SampleData.Attr("host.name", "localhost"));
        localhost.Resource.Attributes.RemoveAt(1);
        data.ResourceSpans.Add(localhost);
        return data;
    }

    [Fact]
    public async Task Readme_trace_conditions_drop_spans_events_and_empty_containers()
    {
        const string yaml = """
            error_mode: ignore
            traces:
              span:
                - 'attributes["container.name"] == "app_container_1"'
                - 'resource.attributes["host.name"] == "localhost"'
                - 'name == "app_3"'
              spanevent:
                - 'attributes["grpc"] == true'
                - 'IsMatch(name, ".*grpc.*")'
            """;
        var run = await Process(yaml, ReadmeTraces());
        var result = Assert.Single(run.Received);
        var resource = Assert.Single(result.ResourceSpans);
        Assert.Equal("node-1", resource.Resource.Attributes.Get("host.name")!.StringValue);
        var spans = resource.ScopeSpans[0].Spans;
        Assert.Equal(2, spans.Count);
        Assert.Equal(["token"], spans[0].Events.Select(e => e.Name));
        // 2 spans dropped in the first resource, both spans of the localhost resource.
        Assert.Equal(4, run.Dropped(Signal.Traces));
    }

    [Fact]
    public async Task Readme_metric_conditions()
    {
        var data = SampleData.Metrics(6);
        var other = SampleData.Metrics(3, "my_service_name").ResourceMetrics[0];
        other.Resource.Attributes.Add(SampleData.Attr("my_label", "abc123"));
        other.ScopeMetrics[0].Metrics[0].Name = "my.metric";
        data.ResourceMetrics.Add(other);
        const string yaml = """
            error_mode: ignore
            metrics:
              metric:
                - 'name == "my.metric" and resource.attributes["my_label"] == "abc123"'
                - 'type == METRIC_DATA_TYPE_HISTOGRAM'
              datapoint:
                - 'metric.type == METRIC_DATA_TYPE_SUMMARY'
                - 'resource.attributes["service.name"] == "my_service_name"'
                - 'attributes["route"] == "/r4"'
            """;
        var run = await Process(yaml, data);
        var result = Assert.Single(run.Received);
        var rm = Assert.Single(result.ResourceMetrics);
        var names = rm.ScopeMetrics[0].Metrics.Select(m => m.Name).ToArray();
        Assert.Equal(["gpu.memory.used", "requests"], names);
        var sum = rm.ScopeMetrics[0].Metrics[1].Sum.DataPoints;
        Assert.Equal(["/r1"], sum.Select(p => p.Attributes.Get("route")!.StringValue));
        // histogram (2 points) + /r4 (1 point) + the whole my_service_name resource (3 points).
        Assert.Equal(6, run.Dropped(Signal.Metrics));
    }

    [Fact]
    public async Task Readme_log_conditions()
    {
        var data = SampleData.Logs(3);
        var records = data.ResourceLogs[0].ScopeLogs[0].LogRecords;
        records[0].Body = new AnyValue { StringValue = "user password=123" };
        records[1].SeverityNumber = OtelAi.Otlp.Proto.Logs.V1.SeverityNumber.Debug;
        records[2].SeverityNumber = OtelAi.Otlp.Proto.Logs.V1.SeverityNumber.Warn;
        const string yaml = """
            logs:
              log_record:
                - 'IsMatch(body, ".*password.*")'
                - 'severity_number < SEVERITY_NUMBER_WARN'
            """;
        var run = await Process(yaml, data);
        var kept = Assert.Single(Assert.Single(run.Received).ResourceLogs[0].ScopeLogs[0].LogRecords);
        Assert.Equal("request 2 served", kept.Body.StringValue);
        Assert.Equal(2, run.Dropped(Signal.Logs));
    }

    [Fact]
    public async Task Everything_dropped_means_nothing_is_passed_on()
    {
        var run = await Process("traces:\n  span: [ 'kind == SPAN_KIND_SERVER' ]", SampleData.Traces(5));
        Assert.Empty(run.Received);
        Assert.Equal(5, run.Dropped(Signal.Traces));
    }

    [Fact]
    public async Task No_conditions_for_a_signal_passes_it_through()
    {
        var run = await Process("traces:\n  span: [ 'name == \"x\"' ]", SampleData.Logs(2));
        Assert.Equal(2, Assert.Single(run.Received).ResourceLogs[0].ScopeLogs[0].LogRecords.Count);
    }

    [Fact]
    public async Task Error_mode_propagate_is_the_default_and_refuses_the_payload()
    {
        const string yaml = "traces:\n  span: [ 'attributes[\"http.request.method\"][\"x\"] == \"y\"' ]";
        Assert.Equal(Processors.Ottl.ErrorMode.Propagate, ConfigLoader.Bind<FilterConfig>("").ErrorMode);
        var error = await Assert.ThrowsAsync<PermanentDataException>(() => Process(yaml, SampleData.Traces(1)));
        Assert.Contains("cannot be indexed", error.Message);
        // ignore keeps the item when its condition fails.
        var run = await Process("error_mode: ignore\n" + yaml, SampleData.Traces(2));
        Assert.Equal(2, Assert.Single(run.Received).ResourceSpans[0].ScopeSpans[0].Spans.Count);
        Assert.Equal(0, run.Dropped(Signal.Traces));
    }

    [Fact]
    public async Task Missing_resource_and_scope_read_as_empty()
    {
        var data = SampleData.Traces(1);
        data.ResourceSpans[0].Resource = null;
        data.ResourceSpans[0].ScopeSpans[0].Scope = null;
        var run = await Process("traces:\n  span: [ 'resource.attributes[\"x\"] != nil or instrumentation_scope.name == \"y\"' ]", data);
        Assert.Single(Assert.Single(run.Received).ResourceSpans[0].ScopeSpans[0].Spans);
    }

    [Fact]
    public void Bad_conditions_are_config_errors_with_path_and_column()
    {
        const string yaml = """
            traces:
              span: [ 'name == "a"', 'nme == "a"' ]
              spanevent: [ 'name = "a"' ]
            metrics:
              datapoint: [ 'IsMatch(metric.name)' ]
            logs:
              log_record: [ 'span.name == "x"' ]
            """;
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.Bind<FilterConfig>(yaml));
        var text = error.Message;
        Assert.Contains("traces.span[1]: unknown path \"nme\" in the span context at column 1", text);
        Assert.Contains("traces.spanevent[0]: unexpected '=' at column 6", text);
        Assert.Contains("metrics.datapoint[0]: IsMatch needs 2 argument(s)", text);
        Assert.Contains("logs.log_record[0]: path \"span.name\" is not available in the log context", text);
    }

    [Fact]
    public void Factory_metadata()
    {
        var factory = new FilterProcessorFactory();
        Assert.Equal("filter", factory.Type);
        Assert.Equal(StabilityLevel.Alpha, factory.Stability[Signal.Metrics]);
        Assert.Contains(new ComponentRegistry().AddProcessors().Factories(ComponentKind.Processor), f => f is FilterProcessorFactory);
    }

    [Fact]
    public async Task Resource_conditions_drop_a_resource_with_all_its_items_on_every_signal()
    {
        var run = await Process("""
            traces:
              resource: ['attributes["host.name"] == "localhost"']
            """, ReadmeTraces());
        var kept = Assert.Single(Assert.Single(run.Received).ResourceSpans);
        Assert.DoesNotContain(kept.Resource.Attributes, a => a.Key == "host.name" && a.Value.StringValue == "localhost");
        Assert.Equal(2, run.Dropped(Signal.Traces));

        var logs = SampleData.Logs(3);
        var logRun = await Process("""
            logs:
              resource: ['attributes["service.name"] == "inference-api"']
            """, logs);
        Assert.Empty(logRun.Received); // nothing left: the payload is not passed on
        Assert.Equal(3, logRun.Dropped(Signal.Logs));
    }

    [Fact]
    public async Task Legacy_spans_include_keeps_only_matches_and_exclude_drops_matches()
    {
        // The legacy form of otelcol's filter README: include by service and span name pattern, exclude by attribute.
        const string yaml = """
            spans:
              include:
                match_type: regexp
                services: ["inference-.*"]
                span_names: ["^POST /v1/.*"]
              exclude:
                match_type: strict
                attributes:
                  - key: http.route
                    value: /v1/health
            """;
        var data = SampleData.Traces(4);
        var spans = data.ResourceSpans[0].ScopeSpans[0].Spans;
        spans[0].Name = "POST /v1/chat/completions";
        spans[1].Name = "POST /v1/health";
        spans[1].Attributes.Add(SampleData.Attr("http.route", "/v1/health"));
        spans[2].Name = "GET /metrics";
        spans[3].Name = "POST /v1/embeddings";
        var run = await Process(yaml, data);
        var kept = run.Received.Single().ResourceSpans[0].ScopeSpans[0].Spans.Select(s => s.Name).ToList();
        Assert.Equal(["POST /v1/chat/completions", "POST /v1/embeddings"], kept);
        Assert.Equal(2, run.Dropped(Signal.Traces));
    }

    [Fact]
    public async Task Legacy_metrics_and_logs_match_names_resources_records_severity_and_bodies()
    {
        var metrics = SampleData.Metrics(3);
        var names = metrics.ResourceMetrics[0].ScopeMetrics[0].Metrics;
        names[0].Name = "prefix/keep";
        names[1].Name = "prefix/drop_total";
        names[2].Name = "other";
        var metricRun = await Process("""
            metrics:
              include:
                match_type: regexp
                metric_names: ["prefix/.*"]
              exclude:
                match_type: regexp
                metric_names: [".*_total$"]
            """, metrics);
        Assert.Equal(["prefix/keep"], metricRun.Received.Single().ResourceMetrics[0].ScopeMetrics[0].Metrics.Select(m => m.Name));

        var logs = SampleData.Logs(4);
        var records = logs.ResourceLogs[0].ScopeLogs[0].LogRecords;
        records[0].SeverityNumber = OtelAi.Otlp.Proto.Logs.V1.SeverityNumber.Error;
        records[0].Body = new AnyValue { StringValue = "model failed to load" };
        records[1].SeverityNumber = OtelAi.Otlp.Proto.Logs.V1.SeverityNumber.Debug;
        records[2].SeverityNumber = OtelAi.Otlp.Proto.Logs.V1.SeverityNumber.Unspecified;
        records[2].Body = new AnyValue { StringValue = "no severity" };
        records[3].SeverityNumber = OtelAi.Otlp.Proto.Logs.V1.SeverityNumber.Warn;
        records[3].Body = new AnyValue { StringValue = "debug: cache miss" };
        var logRun = await Process("""
            logs:
              include:
                match_type: strict
                severity_number: {min: WARN, match_undefined: true}
              exclude:
                match_type: regexp
                bodies: ["^debug"]
            """, logs);
        Assert.Equal(["model failed to load", "no severity"], logRun.Received.Single().ResourceLogs[0].ScopeLogs[0].LogRecords.Select(r => r.Body.StringValue));
    }

    [Theory]
    [InlineData("spans: {exclude: {match_type: strict, span_names: [a]}}\ntraces: {span: ['name == \"b\"']}", "spans", "cannot use OTTL conditions and include/exclude")]
    [InlineData("metrics: {include: {match_type: expr, expressions: ['MetricName == \"a\"']}}", "metrics.include.match_type", "expr")]
    [InlineData("logs: {include: {match_type: fuzzy, bodies: [a]}}", "logs.include", "unrecognized match_type")]
    [InlineData("metrics: {resource: ['attributes[\"a\"] == 1'], exclude: {match_type: strict, metric_names: [a]}}", "metrics", "cannot use OTTL conditions and include/exclude")]
    [InlineData("spans: {include: {match_type: regexp, span_names: ['(']}}", "spans.include", "")]
    public void Legacy_form_errors_name_the_key(string yaml, string path, string message)
    {
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.Bind<FilterConfig>(yaml));
        Assert.Contains(error.Issues, issue => issue.KeyPath.EndsWith(path, StringComparison.Ordinal) && issue.Message.Contains(message, StringComparison.Ordinal));
    }
}
