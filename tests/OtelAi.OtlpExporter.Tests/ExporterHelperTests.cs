using OtelAi.Engine.Config;
using OtelAi.Otlp;
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using OtelAi.Engine.Components;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.Exporter;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.TestSupport;

namespace OtelAi.OtlpExporter.Tests;

/// <summary>The exporter helper's queue/retry/timeout rules, driven by a scripted sender.</summary>
public sealed class ExporterHelperTests
{
    /// <summary>Answers each attempt with the next scripted outcome (null = success); records what it got.</summary>
    private sealed class ScriptedSender(params Func<CancellationToken, Task<SendResult>>[] script) : IExportSender<ExportTraceServiceRequest>
    {
        private int _attempts;
        public ConcurrentQueue<ExportTraceServiceRequest> Delivered { get; } = new();
        public int Attempts => Volatile.Read(ref _attempts);

        public async ValueTask<SendResult> SendAsync(Payload<ExportTraceServiceRequest> payload, CancellationToken cancellationToken)
        {
            var request = payload.Message;
            var n = Interlocked.Increment(ref _attempts) - 1;
            var result = n < script.Length ? await script[n](cancellationToken) : SendResult.Success;
            Delivered.Enqueue(request);
            return result;
        }
    }

    private static Func<CancellationToken, Task<SendResult>> Fail(Exception error) => _ => Task.FromException<SendResult>(error);
    private static Func<CancellationToken, Task<SendResult>> Ok(SendResult result = default) => _ => Task.FromResult(result);

    private static readonly (string, string) Label = ("exporter", "otlp/test");

    private static (ExporterHelper<ExportTraceServiceRequest> Exporter, MetricRegistry Metrics, CapturingLogger Log, ConcurrentQueue<TimeSpan> Waits)
        Create(IExportSender<ExportTraceServiceRequest> sender, RetryConfig? retry = null, QueueConfig? queue = null, TimeSpan? timeout = null)
    {
        var log = new CapturingLogger();
        var metrics = new MetricRegistry();
        var waits = new ConcurrentQueue<TimeSpan>();
        var options = new ExporterHelperOptions(timeout ?? TimeSpan.FromSeconds(5), retry ?? new RetryConfig(), queue ?? new QueueConfig());
        var exporter = new ExporterHelper<ExportTraceServiceRequest>(Settings.For("otlp/test", ComponentKind.Exporter, log, metrics), options, sender,
            (wait, ct) =>
            {
                waits.Enqueue(wait);
                return Task.Delay(TimeSpan.FromMilliseconds(1), ct);
            });
        return (exporter, metrics, log, waits);
    }

    [Fact]
    public async Task Retryable_failures_are_retried_with_growing_jittered_backoff_and_then_sent()
    {
        var sender = new ScriptedSender(Fail(new RetryableDataException("unavailable")), Fail(new HttpRequestException("refused")), Fail(new RetryableDataException("unavailable")));
        var (exporter, metrics, _, waits) = Create(sender, queue: new QueueConfig { Enabled = false });
        await exporter.StartAsync(new TestHost(), CancellationToken.None);

        await exporter.ConsumeAsync(SampleData.Traces(7), CancellationToken.None);

        Assert.Equal(4, sender.Attempts);
        Assert.Equal(7, metrics.Read("otelcol_exporter_sent_spans", Label));
        var w = waits.ToArray();
        Assert.Equal(3, w.Length);
        // initial 5s ± 50 %, then 7.5s ± 50 %, then 11.25s ± 50 %.
        Assert.InRange(w[0].TotalSeconds, 2.5, 7.5);
        Assert.InRange(w[1].TotalSeconds, 3.75, 11.25);
        Assert.InRange(w[2].TotalSeconds, 5.625, 16.875);
        await exporter.ShutdownAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Server_throttle_hint_is_the_minimum_next_wait()
    {
        var sender = new ScriptedSender(Fail(new RetryableDataException("slow down", TimeSpan.FromSeconds(42))));
        var (exporter, _, _, waits) = Create(sender, queue: new QueueConfig { Enabled = false });
        await exporter.ConsumeAsync(SampleData.Traces(1), CancellationToken.None);
        Assert.Equal(TimeSpan.FromSeconds(42), Assert.Single(waits));
    }

    [Fact]
    public async Task Permanent_errors_are_not_retried_and_reach_the_caller_when_the_queue_is_off()
    {
        var sender = new ScriptedSender(Fail(new PermanentDataException("bad data")));
        var (exporter, metrics, log, waits) = Create(sender, queue: new QueueConfig { Enabled = false });

        var error = await Assert.ThrowsAsync<PermanentDataException>(() => exporter.ConsumeAsync(SampleData.Traces(3), CancellationToken.None).AsTask());

        Assert.Contains("bad data", error.Message);
        Assert.Equal(1, sender.Attempts);
        Assert.Empty(waits);
        Assert.Equal(3, metrics.Read("otelcol_exporter_send_failed_spans", Label));
        Assert.True(log.Contains(LogLevel.Error, "bad data"));
    }

    [Fact]
    public async Task Retrying_stops_at_max_elapsed_time()
    {
        var always = Enumerable.Repeat(Fail(new RetryableDataException("down")), 100).ToArray();
        var sender = new ScriptedSender(always);
        var retry = new RetryConfig { InitialInterval = TimeSpan.FromMilliseconds(30), MaxInterval = TimeSpan.FromMilliseconds(30), MaxElapsedTime = TimeSpan.FromMilliseconds(300), RandomizationFactor = 0 };
        var log = new CapturingLogger();
        var exporter = new ExporterHelper<ExportTraceServiceRequest>(Settings.For("otlp/test", ComponentKind.Exporter, log),
            new ExporterHelperOptions(TimeSpan.FromSeconds(5), retry, new QueueConfig { Enabled = false }), sender);

        var error = await Assert.ThrowsAsync<RetryableDataException>(() => exporter.ConsumeAsync(SampleData.Traces(1), CancellationToken.None).AsTask());

        Assert.Contains("no more retries left", error.Message);
        Assert.InRange(sender.Attempts, 2, 11);
    }

    [Fact]
    public async Task Retry_disabled_returns_the_first_failure()
    {
        var sender = new ScriptedSender(Fail(new RetryableDataException("down")));
        var (exporter, _, _, waits) = Create(sender, retry: new RetryConfig { Enabled = false }, queue: new QueueConfig { Enabled = false });
        await Assert.ThrowsAsync<RetryableDataException>(() => exporter.ConsumeAsync(SampleData.Traces(1), CancellationToken.None).AsTask());
        Assert.Equal(1, sender.Attempts);
        Assert.Empty(waits);
    }

    [Fact]
    public async Task An_attempt_that_outlives_the_timeout_is_abandoned_and_retried()
    {
        var sender = new ScriptedSender(async ct => { await Task.Delay(Timeout.Infinite, ct); return SendResult.Success; });
        var (exporter, metrics, log, waits) = Create(sender, queue: new QueueConfig { Enabled = false }, timeout: TimeSpan.FromMilliseconds(100));

        await exporter.ConsumeAsync(SampleData.Traces(2), CancellationToken.None);

        Assert.Equal(2, sender.Attempts);
        Assert.Single(waits);
        Assert.True(log.Contains(LogLevel.Information, "timed out"));
        Assert.Equal(2, metrics.Read("otelcol_exporter_sent_spans", Label));
    }

    [Fact]
    public async Task Partial_success_counts_rejected_items_as_failed_and_logs_the_message()
    {
        var sender = new ScriptedSender(Ok(new SendResult(2, "2 spans had no trace id")));
        var (exporter, metrics, log, _) = Create(sender, queue: new QueueConfig { Enabled = false });

        await exporter.ConsumeAsync(SampleData.Traces(5), CancellationToken.None);

        Assert.Equal(1, sender.Attempts);
        Assert.Equal(3, metrics.Read("otelcol_exporter_sent_spans", Label));
        Assert.Equal(2, metrics.Read("otelcol_exporter_send_failed_spans", Label));
        Assert.True(log.Contains(LogLevel.Warning, "2 spans had no trace id"));
    }

    [Fact]
    public async Task Full_queue_refuses_with_a_retryable_error_and_counts_enqueue_failed()
    {
        var release = new TaskCompletionSource();
        var blocked = Enumerable.Repeat<Func<CancellationToken, Task<SendResult>>>(async ct => { await release.Task.WaitAsync(ct); return SendResult.Success; }, 10).ToArray();
        var sender = new ScriptedSender(blocked);
        var (exporter, metrics, _, _) = Create(sender, queue: new QueueConfig { NumConsumers = 1, QueueSize = 3 }, timeout: TimeSpan.Zero);
        await exporter.StartAsync(new TestHost(), CancellationToken.None);

        await exporter.ConsumeAsync(SampleData.Traces(1), CancellationToken.None); // taken by the single consumer
        await Poll.UntilAsync(() => sender.Attempts == 1, "the consumer to take the first request");
        // As otelcol's: the request being sent still counts, in the size and against the capacity.
        Assert.Equal(1, metrics.Read("otelcol_exporter_queue_size", ("exporter", "otlp/test"), ("data_type", "traces")));
        await exporter.ConsumeAsync(SampleData.Traces(1), CancellationToken.None);
        await exporter.ConsumeAsync(SampleData.Traces(1), CancellationToken.None);
        Assert.Equal(3, metrics.Read("otelcol_exporter_queue_size", ("exporter", "otlp/test"), ("data_type", "traces")));
        Assert.Equal(3, metrics.Read("otelcol_exporter_queue_capacity", ("exporter", "otlp/test"), ("data_type", "traces")));

        var refused = await Assert.ThrowsAsync<RetryableDataException>(() => exporter.ConsumeAsync(SampleData.Traces(4), CancellationToken.None).AsTask());
        Assert.Contains("sending queue is full", refused.Message);
        Assert.Equal(4, metrics.Read("otelcol_exporter_enqueue_failed_spans", Label));

        release.SetResult();
        await Poll.UntilAsync(() => metrics.Read("otelcol_exporter_sent_spans", Label) == 3, "the queued requests to be sent");
        await Poll.UntilAsync(() => metrics.Read("otelcol_exporter_queue_size", ("exporter", "otlp/test"), ("data_type", "traces")) == 0, "the queue to be empty once sent");
        await exporter.ShutdownAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Blocking_queue_waits_for_room_instead_of_refusing()
    {
        var release = new TaskCompletionSource();
        var sender = new ScriptedSender(async ct => { await release.Task.WaitAsync(ct); return SendResult.Success; });
        var (exporter, metrics, _, _) = Create(sender, queue: new QueueConfig { NumConsumers = 1, QueueSize = 2, Blocking = true }, timeout: TimeSpan.Zero);
        await exporter.StartAsync(new TestHost(), CancellationToken.None);
        await exporter.ConsumeAsync(SampleData.Traces(1), CancellationToken.None);
        await Poll.UntilAsync(() => sender.Attempts == 1, "the first request to be taken");
        await exporter.ConsumeAsync(SampleData.Traces(1), CancellationToken.None);

        var third = exporter.ConsumeAsync(SampleData.Traces(1), CancellationToken.None).AsTask();
        await Task.Delay(200);
        Assert.False(third.IsCompleted);

        release.SetResult();
        await third.WaitAsync(TimeSpan.FromSeconds(30));
        await Poll.UntilAsync(() => metrics.Read("otelcol_exporter_sent_spans", Label) == 3, "all requests to be sent");
        await exporter.ShutdownAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Items_sizer_measures_the_queue_in_spans()
    {
        var release = new TaskCompletionSource();
        var sender = new ScriptedSender(async ct => { await release.Task.WaitAsync(ct); return SendResult.Success; });
        var (exporter, _, _, _) = Create(sender, queue: new QueueConfig { NumConsumers = 1, QueueSize = 10, Sizer = QueueSizer.Items }, timeout: TimeSpan.Zero);
        await exporter.StartAsync(new TestHost(), CancellationToken.None);
        await exporter.ConsumeAsync(SampleData.Traces(1), CancellationToken.None);
        await Poll.UntilAsync(() => sender.Attempts == 1, "the first request to be taken");

        await exporter.ConsumeAsync(SampleData.Traces(6), CancellationToken.None);
        await Assert.ThrowsAsync<RetryableDataException>(() => exporter.ConsumeAsync(SampleData.Traces(4), CancellationToken.None).AsTask()); // 1 in flight + 6 + 4 > 10
        await exporter.ConsumeAsync(SampleData.Traces(3), CancellationToken.None);
        await Assert.ThrowsAsync<PermanentDataException>(() => exporter.ConsumeAsync(SampleData.Traces(11), CancellationToken.None).AsTask());
        release.SetResult();
        await exporter.ShutdownAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Shutdown_drains_the_memory_queue()
    {
        var sender = new ScriptedSender(Enumerable.Repeat<Func<CancellationToken, Task<SendResult>>>(async _ => { await Task.Delay(20); return SendResult.Success; }, 50).ToArray());
        var (exporter, metrics, _, _) = Create(sender, queue: new QueueConfig { NumConsumers = 2, QueueSize = 100 });
        await exporter.StartAsync(new TestHost(), CancellationToken.None);
        for (var i = 0; i < 50; i++) await exporter.ConsumeAsync(SampleData.Traces(2, seed: i), CancellationToken.None);

        await exporter.ShutdownAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);

        Assert.Equal(100, metrics.Read("otelcol_exporter_sent_spans", Label));
        await Assert.ThrowsAsync<RetryableDataException>(() => exporter.ConsumeAsync(SampleData.Traces(1), CancellationToken.None).AsTask());
    }

    /// <summary>Records who sent each request, as the sender sees it on its own async flow.</summary>
    private sealed class ClientRecordingSender : IExportSender<ExportTraceServiceRequest>
    {
        public ConcurrentQueue<(string? Address, string? Tenant)> Seen { get; } = new();

        public async ValueTask<SendResult> SendAsync(Payload<ExportTraceServiceRequest> payload, CancellationToken cancellationToken)
        {
            var request = payload.Message;
            await Task.Yield();
            Seen.Enqueue((ClientContext.Current.Address, ClientContext.Current.GetFirst("x-tenant")));
            return SendResult.Success;
        }
    }

    [Fact]
    public async Task The_client_info_of_a_queued_request_reaches_the_sender()
    {
        var sender = new ClientRecordingSender();
        var (exporter, _, _, _) = Create(sender, queue: new QueueConfig { NumConsumers = 2, QueueSize = 10 });
        await exporter.StartAsync(new TestHost(), CancellationToken.None);

        foreach (var tenant in new[] { "a", "b", "c" })
            await ConsumeAs(exporter, new ClientInfo($"10.0.0.{tenant[0] - 'a' + 1}:5000",
                new Dictionary<string, IReadOnlyList<string>> { ["x-tenant"] = [tenant] }));
        await ConsumeAs(exporter, null);
        await exporter.ShutdownAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);

        Assert.Equal([("10.0.0.1:5000", "a"), ("10.0.0.2:5000", "b"), ("10.0.0.3:5000", "c"), (null, null)],
            sender.Seen.OrderBy(s => s.Tenant ?? "~").ToArray());
    }

    // Sets the client on a flow of its own, as a receiver does per call, so it does not leak into the next call.
    private static Task ConsumeAs(ExporterHelper<ExportTraceServiceRequest> exporter, ClientInfo? client) => Task.Run(async () =>
    {
        ClientContext.Set(client);
        await exporter.ConsumeAsync(SampleData.Traces(1), CancellationToken.None);
    });

    [Fact]
    public async Task Shutdown_deadline_drops_and_counts_what_could_not_be_sent()
    {
        var sender = new ScriptedSender(Enumerable.Repeat(Fail(new RetryableDataException("down")), 1000).ToArray());
        var (exporter, metrics, log, _) = Create(sender, queue: new QueueConfig { NumConsumers = 1, QueueSize = 10 });
        await exporter.StartAsync(new TestHost(), CancellationToken.None);
        for (var i = 0; i < 5; i++) await exporter.ConsumeAsync(SampleData.Traces(3), CancellationToken.None);

        await exporter.ShutdownAsync(new CancellationTokenSource(TimeSpan.FromMilliseconds(300)).Token);

        Assert.Equal(15, metrics.Read("otelcol_exporter_send_failed_spans", Label));
        Assert.Equal(0, metrics.Read("otelcol_exporter_sent_spans", Label));
        Assert.True(log.Contains(LogLevel.Error, "dropped"));
    }

    [Fact]
    public async Task Queued_permanent_failure_is_dropped_counted_and_logged()
    {
        var sender = new ScriptedSender(Fail(new PermanentDataException("HTTP 400: invalid span")));
        // One consumer: the scripted failure must meet the first request, not whichever a consumer picks first.
        var (exporter, metrics, log, waits) = Create(sender, queue: new QueueConfig { NumConsumers = 1 });
        await exporter.StartAsync(new TestHost(), CancellationToken.None);
        await exporter.ConsumeAsync(SampleData.Traces(4), CancellationToken.None);
        await exporter.ConsumeAsync(SampleData.Traces(2), CancellationToken.None);

        await Poll.UntilAsync(() => sender.Attempts == 2, "both requests to be attempted");
        await Poll.UntilAsync(() => metrics.Read("otelcol_exporter_sent_spans", Label) == 2, "the second request to be sent");
        Assert.Equal(4, metrics.Read("otelcol_exporter_send_failed_spans", Label));
        Assert.Empty(waits);
        Assert.True(log.Contains(LogLevel.Error, "invalid span"));
        await exporter.ShutdownAsync(CancellationToken.None);
    }

    [Fact]
    public void Config_validation_names_the_bad_keys()
    {
        var errors = Assert.Throws<ConfigException>(() => ConfigLoader.Bind<OtelAi.Exporters.Otlp.OtlpExporterConfig>("""
            endpoint: collector:4317
            timeout: -1s
            retry_on_failure: {multiplier: 0.5, initial_interval: 40s}
            sending_queue: {num_consumers: 0, queue_size: 0, storage: file_storage, sizer: items}
            """)).Issues.Select(e => e.KeyPath).ToList();
        Assert.Contains("timeout", errors);
        Assert.Contains("retry_on_failure.multiplier", errors);
        Assert.Contains("retry_on_failure.max_interval", errors);
        Assert.Contains("sending_queue.num_consumers", errors);
        Assert.Contains("sending_queue.queue_size", errors);
        Assert.Contains("sending_queue.sizer", errors);
        // A value out of its declared range is the binder's own error (cross-field rules run once values bind).
        Assert.Equal("retry_on_failure.randomization_factor", Assert.Throws<ConfigException>(() =>
            ConfigLoader.Bind<OtelAi.Exporters.Otlp.OtlpExporterConfig>("endpoint: c:4317\nretry_on_failure: {randomization_factor: 2}")).Issues.Single().KeyPath);
        Assert.Empty(ConfigValidation.Validate(new OtelAi.Exporters.Otlp.OtlpExporterConfig()).Where(e => e.Path != "endpoint"));
    }
}
