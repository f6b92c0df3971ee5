using OtelAi.Otlp;
using OtelAi.Engine.Components;
using OtelAi.Engine.Consumers;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.TestSupport;

namespace OtelAi.Engine.Tests;

public sealed class LifecycleTests
{
    private readonly Harness _h = new();

    [Fact]
    public async Task Components_start_downstream_first_and_stop_in_reverse()
    {
        await using var collector = _h.Builder()
            .AddExtension("testext/first").AddExtension("testext/second")
            .AddReceiver("testrecv").AddProcessor("tag/1").AddProcessor("tag/2").AddConnector("forward").AddExporter("collect")
            .AddPipeline("traces/in", receivers: ["testrecv"], processors: ["tag/1"], exporters: ["forward"])
            .AddPipeline("traces/out", receivers: ["forward"], processors: ["tag/2"], exporters: ["collect"])
            .Build(Harness.QuietOptions);
        Assert.Equal(CollectorState.Created, collector.State);
        await collector.StartAsync();
        Assert.Equal(CollectorState.Running, collector.State);
        var started = _h.Log.Events.ToList();
        await collector.StopAsync();
        Assert.Equal(CollectorState.Stopped, collector.State);

        Assert.Equal(
            ["start extension/testext/first", "start extension/testext/second", "start exporter/collect/traces",
             "start processor/tag/2", "start processor/tag/1", "start receiver/testrecv"],
            started);
        Assert.Equal(
            ["stop receiver/testrecv", "stop processor/tag/1", "stop processor/tag/2", "stop exporter/collect/traces",
             "stop extension/testext/second", "stop extension/testext/first"],
            _h.Log.Events.Skip(started.Count));
        Assert.True(collector.Completion.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task Shutdown_drains_data_queued_in_exporters_and_held_in_processors()
    {
        await using var collector = _h.Builder()
            .AddReceiver("testrecv").AddProcessor("buffer")
            .AddExporter("collect/slow", new TestConfig { SendDelay = TimeSpan.FromMilliseconds(20) })
            .AddPipeline("traces", receivers: ["testrecv"], processors: ["buffer"], exporters: ["collect/slow"])
            .Build(Harness.QuietOptions with { ShutdownTimeout = TimeSpan.FromSeconds(60) });
        await collector.StartAsync();
        var receiver = Harness.Receiver(collector);
        for (var i = 0; i < 20; i++) await receiver.SendAsync(SampleData.Traces(10, seed: i));
        var exporter = Harness.Exporter<ExportTraceServiceRequest>(collector, "collect/slow");
        Assert.Empty(exporter.Exported); // all of it is still held by the buffering processor

        await collector.StopAsync();

        Assert.Equal(200, exporter.ItemCount);
        // Once stopped, the receiver refuses instead of accepting data that would be lost.
        await Assert.ThrowsAsync<RetryableDataException>(() => receiver.SendAsync(SampleData.Traces(1)));
    }

    [Fact]
    public async Task Component_stuck_in_shutdown_is_abandoned_at_the_timeout_and_the_rest_still_stops()
    {
        var collector = _h.Builder()
            .AddExtension("testext").AddReceiver("testrecv")
            .AddExporter("collect/stuck", new TestConfig { HangOnShutdown = true })
            .AddPipeline("traces", receivers: ["testrecv"], exporters: ["collect/stuck"])
            .Build(Harness.QuietOptions with { ShutdownTimeout = TimeSpan.FromSeconds(1) });
        await collector.StartAsync();

        var error = await Assert.ThrowsAsync<AggregateException>(() => collector.StopAsync());

        var timeout = Assert.IsType<TimeoutException>(Assert.Single(error.InnerExceptions));
        Assert.Contains("exporter \"collect/stuck\" (traces)", timeout.Message);
        Assert.Equal(CollectorState.Stopped, collector.State);
        Assert.Contains("stop receiver/testrecv", _h.Log.Events);
        Assert.Contains("stop extension/testext", _h.Log.Events);
    }

    [Fact]
    public async Task Start_failure_stops_what_started_and_names_the_component()
    {
        await using var collector = _h.Builder()
            .AddExtension("testext").AddReceiver("testrecv").AddProcessor("tag")
            .AddExporter("collect/good")
            .AddExporter("collect/bad", new TestConfig { FailStart = "backend address refused" })
            .AddPipeline("traces", receivers: ["testrecv"], processors: ["tag"], exporters: ["collect/good", "collect/bad"])
            .Build(Harness.QuietOptions);

        var error = await Assert.ThrowsAsync<ComponentStartException>(() => collector.StartAsync());

        Assert.Equal("failed to start exporter \"collect/bad\" (traces): backend address refused", error.Message);
        Assert.Equal(CollectorState.Stopped, collector.State);
        Assert.Equal(
            ["start extension/testext", "start exporter/collect/good/traces", "stop exporter/collect/good/traces", "stop extension/testext"],
            _h.Log.Events);
        Assert.True(collector.Completion.IsCompleted);
    }

    [Fact]
    public void Factory_refusing_to_build_a_component_is_named_in_the_error()
    {
        var error = Assert.Throws<ComponentCreateException>(() => _h.Builder()
            .AddReceiver("testrecv").AddExporter("collect/bad", new TestConfig { FailCreate = "certificate file missing" })
            .AddPipeline("logs", receivers: ["testrecv"], exporters: ["collect/bad"])
            .Build(Harness.QuietOptions));

        Assert.Equal("failed to create exporter \"collect/bad\" (logs): certificate file missing", error.Message);
        Assert.Empty(_h.Log.Events);
    }

    [Fact]
    public async Task Fatal_error_reported_by_a_component_stops_the_collector()
    {
        await using var collector = _h.Builder()
            .AddReceiver("testrecv").AddExporter("collect")
            .AddPipeline("traces", receivers: ["testrecv"], exporters: ["collect"])
            .Build(Harness.QuietOptions);
        await collector.StartAsync();
        var receiver = Harness.Receiver(collector);

        receiver.Host!.ReportFatalError(ComponentId.Parse("testrecv"), new IOException("listener socket closed"));
        await collector.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(CollectorState.Stopped, collector.State);
        Assert.Equal("listener socket closed", collector.FatalError?.Message);
        Assert.Contains("stop exporter/collect/traces", _h.Log.Events);
    }

    [Fact]
    public async Task Extensions_are_reachable_from_the_host_once_started()
    {
        await using var collector = _h.Builder()
            .AddExtension("testext/store").AddReceiver("testrecv").AddExporter("collect")
            .AddPipeline("traces", receivers: ["testrecv"], exporters: ["collect"])
            .Build(Harness.QuietOptions);
        await collector.StartAsync();
        var host = Harness.Receiver(collector).Host!;

        Assert.IsType<TestExtension>(host.GetExtension(ComponentId.Parse("testext/store")));
        Assert.Null(host.GetExtension(ComponentId.Parse("testext/other")));
        var status = Assert.IsAssignableFrom<ICollectorStatus>(host);
        Assert.Equal(CollectorState.Running, status.State);
        Assert.NotNull(status.RunningSince);
    }

    [Fact]
    public async Task A_collector_starts_only_once()
    {
        await using var collector = _h.Builder()
            .AddReceiver("testrecv").AddExporter("collect")
            .AddPipeline("traces", receivers: ["testrecv"], exporters: ["collect"])
            .Build(Harness.QuietOptions);
        await collector.StartAsync();
        await collector.StopAsync();
        await Assert.ThrowsAsync<InvalidOperationException>(() => collector.StartAsync());
    }
}
