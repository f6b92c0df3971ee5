using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Service;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.TestSupport;

namespace OtelAi.Engine.Tests;

public sealed class GraphTests
{
    private readonly Harness _h = new();

    [Fact]
    public async Task Shared_receiver_is_built_once_and_feeds_every_pipeline_that_lists_it()
    {
        await using var collector = _h.Builder()
            .AddReceiver("testrecv").AddProcessor("tag/a").AddProcessor("tag/b")
            .AddExporter("collect/a").AddExporter("collect/b")
            .AddPipeline("traces/a", receivers: ["testrecv"], processors: ["tag/a"], exporters: ["collect/a"])
            .AddPipeline("traces/b", receivers: ["testrecv"], processors: ["tag/b"], exporters: ["collect/b"])
            .Build(Harness.QuietOptions);
        await collector.StartAsync();

        var sent = SampleData.Traces(5);
        await Harness.Receiver(collector).SendAsync(sent.Clone());
        await collector.StopAsync();

        Assert.Single(_h.Log.Events, e => e == "start receiver/testrecv");
        var a = Assert.Single(Harness.Exporter<ExportTraceServiceRequest>(collector, "collect/a").Exported);
        var b = Assert.Single(Harness.Exporter<ExportTraceServiceRequest>(collector, "collect/b").Exported);
        // Each pipeline got its own copy: pipeline a's processor did not leak into pipeline b's data.
        Assert.Equal(["tag/a"], TestComponents.Tags(a));
        Assert.Equal(["tag/b"], TestComponents.Tags(b));
        Assert.Equal(sent.ResourceSpans[0].ScopeSpans, a.ResourceSpans[0].ScopeSpans);
        Assert.Equal(sent.ResourceSpans[0].ScopeSpans, b.ResourceSpans[0].ScopeSpans);
    }

    [Fact]
    public async Task Pipeline_fans_out_the_same_data_to_every_exporter()
    {
        await using var collector = _h.Builder()
            .AddReceiver("testrecv").AddExporter("collect/1").AddExporter("collect/2").AddExporter("collect/3")
            .AddPipeline("traces", receivers: ["testrecv"], exporters: ["collect/1", "collect/2", "collect/3"])
            .Build(Harness.QuietOptions);
        await collector.StartAsync();
        var sent = SampleData.Traces(7);
        await Harness.Receiver(collector).SendAsync(sent.Clone());
        await collector.StopAsync();

        foreach (var id in new[] { "collect/1", "collect/2", "collect/3" })
            Assert.Equal(sent, Assert.Single(Harness.Exporter<ExportTraceServiceRequest>(collector, id).Exported));
    }

    [Fact]
    public async Task Exporter_is_built_once_per_signal_and_processors_once_per_pipeline()
    {
        await using var collector = _h.Builder()
            .AddReceiver("testrecv").AddProcessor("tag").AddExporter("collect")
            .AddPipeline("traces/a", receivers: ["testrecv"], processors: ["tag"], exporters: ["collect"])
            .AddPipeline("traces/b", receivers: ["testrecv"], processors: ["tag"], exporters: ["collect"])
            .AddPipeline("metrics", receivers: ["testrecv"], processors: ["tag"], exporters: ["collect"])
            .Build(Harness.QuietOptions);
        await collector.StartAsync();
        await Harness.Receiver(collector).SendAsync(SampleData.Traces(3));
        await collector.StopAsync();

        Assert.Equal(3, _h.Log.Events.Count(e => e == "start processor/tag"));
        Assert.Single(_h.Log.Events, e => e == "start exporter/collect/traces");
        Assert.Single(_h.Log.Events, e => e == "start exporter/collect/metrics");
        // Both traces pipelines delivered into the one shared traces exporter.
        Assert.Equal(2, Harness.Exporter<ExportTraceServiceRequest>(collector, "collect").Exported.Count);
    }

    [Fact]
    public async Task Connectors_route_data_into_the_pipelines_that_receive_from_them()
    {
        await using var collector = _h.Builder()
            .AddReceiver("testrecv").AddProcessor("tag/in").AddProcessor("tag/out")
            .AddConnector("forward").AddConnector("spancount")
            .AddExporter("collect/direct").AddExporter("collect/forwarded").AddExporter("collect/counts")
            .AddPipeline("traces/in", receivers: ["testrecv"], processors: ["tag/in"], exporters: ["forward", "spancount", "collect/direct"])
            .AddPipeline("traces/out", receivers: ["forward"], processors: ["tag/out"], exporters: ["collect/forwarded"])
            .AddPipeline("metrics/counts", receivers: ["spancount"], exporters: ["collect/counts"])
            .Build(Harness.QuietOptions);
        await collector.StartAsync();
        await Harness.Receiver(collector).SendAsync(SampleData.Traces(4));
        await collector.StopAsync();

        var direct = Assert.Single(Harness.Exporter<ExportTraceServiceRequest>(collector, "collect/direct").Exported);
        var forwarded = Assert.Single(Harness.Exporter<ExportTraceServiceRequest>(collector, "collect/forwarded").Exported);
        Assert.Equal(["tag/in"], TestComponents.Tags(direct));
        Assert.Equal(["tag/in", "tag/out"], TestComponents.Tags(forwarded));
        var counts = Assert.Single(Harness.Exporter<ExportMetricsServiceRequest>(collector, "collect/counts").Exported);
        Assert.Equal(4, counts.ResourceMetrics[0].ScopeMetrics[0].Metrics[0].Gauge.DataPoints[0].AsInt);
    }

    [Fact]
    public void Cycle_through_connectors_is_rejected_naming_the_cycle()
    {
        var error = Assert.Throws<ConfigException>(() => _h.Builder()
            .AddReceiver("testrecv").AddConnector("forward/x").AddConnector("forward/y").AddExporter("collect")
            .AddPipeline("traces/a", receivers: ["testrecv", "forward/y"], exporters: ["forward/x", "collect"])
            .AddPipeline("traces/b", receivers: ["forward/x"], exporters: ["forward/y"])
            .Build(Harness.QuietOptions));

        var cycle = Assert.Single(error.Issues, i => i.Severity == ConfigIssueSeverity.Error);
        Assert.Equal("service.pipelines.traces/a.exporters[0]", cycle.KeyPath);
        Assert.Equal("cycle through connectors: pipeline \"traces/a\" → connector \"forward/x\" → pipeline \"traces/b\" → connector \"forward/y\" → pipeline \"traces/a\"", cycle.Message);
    }

    [Fact]
    public void Pipeline_feeding_itself_through_a_connector_is_a_cycle()
    {
        var issues = Validate(b => b
            .AddReceiver("testrecv").AddConnector("forward").AddExporter("collect")
            .AddPipeline("logs", receivers: ["testrecv", "forward"], exporters: ["collect", "forward"]));

        var issue = Assert.Single(issues);
        Assert.Equal("service.pipelines.logs.exporters[1]", issue.KeyPath);
        Assert.Equal("cycle through connectors: pipeline \"logs\" → connector \"forward\" → pipeline \"logs\"", issue.Message);
    }

    [Fact]
    public void Component_that_lacks_the_pipeline_signal_is_rejected()
    {
        var issues = Validate(b => b
            .AddReceiver("testrecv").AddExporter("tracesonly")
            .AddPipeline("metrics", receivers: ["testrecv"], exporters: ["tracesonly"]));

        var issue = Assert.Single(issues);
        Assert.Equal(ConfigIssueSeverity.Error, issue.Severity);
        Assert.Equal("service.pipelines.metrics.exporters[0]", issue.KeyPath);
        Assert.Equal("exporter \"tracesonly\" does not support metrics (it supports: traces)", issue.Message);
    }

    [Fact]
    public void Connector_without_a_supported_route_is_rejected_on_both_sides()
    {
        var issues = Validate(b => b
            .AddReceiver("testrecv").AddConnector("spancount").AddExporter("collect")
            .AddPipeline("logs", receivers: ["testrecv"], exporters: ["spancount"])
            .AddPipeline("traces", receivers: ["spancount"], exporters: ["collect"]));

        Assert.Contains(issues, i => i.KeyPath == "service.pipelines.logs.exporters[0]" &&
            i.Message.StartsWith("connector \"spancount\" is used as exporter in logs pipeline \"logs\" but not used in any supported receiver pipeline"));
        Assert.Contains(issues, i => i.KeyPath == "service.pipelines.traces.receivers[0]" &&
            i.Message.StartsWith("connector \"spancount\" is used as receiver in traces pipeline \"traces\" but not used in any supported exporter pipeline"));
    }

    [Fact]
    public void Every_reference_error_is_reported_at_its_key_path()
    {
        var config = new ServiceConfig
        {
            Receivers = new Dictionary<ComponentId, ComponentConfig> { [ComponentId.Parse("testrecv")] = new TestConfig() },
            Exporters = new Dictionary<ComponentId, ComponentConfig> { [ComponentId.Parse("collect")] = new TestConfig() },
            Extensions = new Dictionary<ComponentId, ComponentConfig> { [ComponentId.Parse("testext")] = new TestConfig() },
            ServiceExtensions = [ComponentId.Parse("health_check")],
            Pipelines = new Dictionary<PipelineId, PipelineConfig>
            {
                [new PipelineId(OtelAi.Otlp.Signal.Traces)] = new() { Receivers = [ComponentId.Parse("testrecv")], Processors = [ComponentId.Parse("batch")], Exporters = [ComponentId.Parse("collect"), ComponentId.Parse("otlp")] },
                [new PipelineId(OtelAi.Otlp.Signal.Logs, "empty")] = new() { Receivers = [ComponentId.Parse("collect")] },
            },
            Source = new ConfigSourceMap(new Dictionary<string, SourceLocation>
            {
                ["service.pipelines.traces.exporters[1]"] = new("collector.yaml", 14, 20),
            }),
        };
        var issues = GraphPlan.Validate(config, _h.Registry);
        var text = issues.Select(i => i.ToString()).ToList();

        Assert.Contains("service.extensions[0]: references extension \"health_check\" which is not configured (configured: testext)", text);
        Assert.Contains("service.pipelines.traces.processors[0]: references processor \"batch\" which is not configured", text);
        Assert.Contains("collector.yaml:14:20: service.pipelines.traces.exporters[1]: references exporter \"otlp\" which is not configured", text);
        Assert.Contains("service.pipelines.logs/empty.receivers[0]: references receiver \"collect\" which is not configured (\"collect\" is configured as an exporter)", text);
        Assert.Contains("service.pipelines.logs/empty.exporters: pipeline \"logs/empty\" must have at least one exporter", text);
        Assert.Contains("warning: extensions.testext: extension \"testext\" is configured but not listed in service.extensions", text);
        Assert.Equal(5, issues.Count(i => i.Severity == ConfigIssueSeverity.Error));
    }

    [Fact]
    public async Task Unused_components_are_warnings_and_the_collector_still_runs()
    {
        await using var collector = _h.Builder()
            .AddReceiver("testrecv").AddReceiver("testrecv/spare").AddProcessor("tag").AddExporter("collect").AddExporter("collect/unused")
            .AddPipeline("traces", receivers: ["testrecv"], exporters: ["collect"])
            .Build(Harness.QuietOptions);

        Assert.Equal(
            ["receivers.testrecv/spare: receiver \"testrecv/spare\" is configured but not used in any pipeline",
             "processors.tag: processor \"tag\" is configured but not used in any pipeline",
             "exporters.collect/unused: exporter \"collect/unused\" is configured but not used in any pipeline"],
            collector.Warnings.Select(w => $"{w.KeyPath}: {w.Message}"));
        Assert.All(collector.Warnings, w => Assert.Equal(ConfigIssueSeverity.Warning, w.Severity));
        await collector.StartAsync();
        Assert.Equal(CollectorState.Running, collector.State);
        Assert.DoesNotContain(_h.Log.Events, e => e.Contains("spare") || e.Contains("unused"));
    }

    private IReadOnlyList<ConfigIssue> Validate(Func<CollectorBuilder, CollectorBuilder> build) =>
        GraphPlan.Validate(build(_h.Builder()).BuildConfig(), _h.Registry);
}
