using OtelAi.Otlp;
using System.Text;
using Microsoft.Extensions.Logging;
using OtelAi.Engine.Components;
using OtelAi.Otlp.Json;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Receivers.OtlpJsonFile;
using OtelAi.TestSupport;

namespace OtelAi.FileComponents.Tests;

public sealed class OtlpJsonFileReceiverTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly CapturingLogger _logger = new();
    private readonly ComponentCreateSettings _settings;

    public OtlpJsonFileReceiverTests() =>
        _settings = TestSettings.For(new ComponentId("otlpjsonfile"), ComponentKind.Receiver) with { Logger = _logger };

    public void Dispose() => _dir.Dispose();

    private static string Line(Google.Protobuf.IMessage message) => OtlpJson.ToJson(message) + "\n";

    private IComponent Create(OtlpJsonFileReceiverConfig config, ReceiverConsumers consumers)
    {
        var factory = new OtlpJsonFileReceiverFactory();
        Assert.Empty(config.Validate());
        return factory.CreateReceiver(_settings, config, consumers);
    }

    private OtlpJsonFileReceiverConfig Config(OtlpJsonFileStartAt startAt = OtlpJsonFileStartAt.Beginning) => new()
    {
        Include = [Path.Combine(_dir.Path, "*.jsonl")],
        StartAt = startAt,
        PollInterval = TimeSpan.FromMilliseconds(20),
    };

    [Fact]
    public async Task Reads_every_signal_from_existing_files_and_routes_by_top_level_key()
    {
        var traces = SampleData.Traces(5);
        var metrics = SampleData.Metrics(6);
        var logs = SampleData.Logs(7);
        await File.WriteAllTextAsync(_dir.File("a.jsonl"), Line(traces) + Line(metrics) + "\n" + Line(logs));
        // snake_case top-level keys are recognised too
        await File.WriteAllTextAsync(_dir.File("b.jsonl"), Line(logs).Replace("\"resourceLogs\"", "\"resource_logs\""));
        await File.WriteAllTextAsync(_dir.File("ignored.txt"), Line(traces));

        var t = new Sink<ExportTraceServiceRequest>();
        var m = new Sink<ExportMetricsServiceRequest>();
        var l = new Sink<ExportLogsServiceRequest>();
        var receiver = Create(Config(), new ReceiverConsumers(t, m, l));
        await receiver.StartAsync(new TestHost(), CancellationToken.None);
        await Eventually.True(() => t.Payloads.Count == 1 && m.Payloads.Count == 1 && l.Payloads.Count == 2, "all lines");
        await receiver.ShutdownAsync(CancellationToken.None);

        Assert.Equal(traces, Assert.Single(t.Payloads));
        Assert.Equal(metrics, Assert.Single(m.Payloads));
        Assert.All(l.Payloads, received => Assert.Equal(logs, received));
        Assert.Equal(5, _settings.Metrics.Read("otelcol_receiver_accepted_spans", ("receiver", "otlpjsonfile"), ("transport", "file")));
        Assert.Equal(6, _settings.Metrics.Read("otelcol_receiver_accepted_metric_points", ("receiver", "otlpjsonfile"), ("transport", "file")));
        Assert.Equal(14, _settings.Metrics.Read("otelcol_receiver_accepted_log_records", ("receiver", "otlpjsonfile"), ("transport", "file")));
    }

    [Fact]
    public async Task Start_at_end_follows_appended_lines_partial_lines_and_new_files()
    {
        var path = _dir.File("app.jsonl");
        await File.WriteAllTextAsync(path, Line(SampleData.Traces(1, "old")));
        var t = new Sink<ExportTraceServiceRequest>();
        var config = Config(OtlpJsonFileStartAt.End) with
        {
            Exclude = [_dir.File("skip-*")],
            ForceFlushPeriod = TimeSpan.FromMinutes(10), // only a newline completes a line in this test
        };
        var receiver = Create(config, new ReceiverConsumers(t, null, null));
        await receiver.StartAsync(new TestHost(), CancellationToken.None);

        var appended = SampleData.Traces(2, "appended");
        await File.AppendAllTextAsync(path, Line(appended));
        await Eventually.True(() => t.Payloads.Count == 1, "the appended line");
        Assert.Equal(appended, t.Payloads.Single());

        // A line written in two parts is read once, whole, after its newline arrives.
        var split = Line(SampleData.Traces(3, "split"));
        await File.AppendAllTextAsync(path, split[..40]);
        var excluded = SampleData.Traces(1, "excluded");
        await File.WriteAllTextAsync(_dir.File("skip-me.jsonl"), Line(excluded));
        var fresh = SampleData.Traces(4, "new-file");
        await File.WriteAllTextAsync(_dir.File("new.jsonl"), Line(fresh));
        await Eventually.True(() => t.Payloads.Count == 2, "the new file");
        await File.AppendAllTextAsync(path, split[40..]);
        await Eventually.True(() => t.Payloads.Count == 3, "the completed line");
        await receiver.ShutdownAsync(CancellationToken.None);

        var services = t.Payloads.Select(r => r.ResourceSpans[0].Resource.Attributes[0].Value.StringValue).ToList();
        Assert.Equal(["appended", "new-file", "split"], services);
        Assert.Equal(SampleData.Traces(3, "split"), t.Payloads.Last());
    }

    [Fact]
    public async Task A_last_line_without_newline_is_read_after_the_force_flush_period()
    {
        var traces = SampleData.Traces(2);
        await File.WriteAllTextAsync(_dir.File("x.jsonl"), OtlpJson.ToJson(traces));
        var t = new Sink<ExportTraceServiceRequest>();
        var receiver = Create(Config() with { ForceFlushPeriod = TimeSpan.FromMilliseconds(100) }, new ReceiverConsumers(t, null, null));
        await receiver.StartAsync(new TestHost(), CancellationToken.None);
        await Eventually.True(() => t.Payloads.Count == 1, "the unterminated line");
        await Task.Delay(300); // several more polls: it must not be read twice
        await receiver.ShutdownAsync(CancellationToken.None);
        Assert.Equal(traces, Assert.Single(t.Payloads));
    }

    [Fact]
    public async Task Malformed_lines_are_logged_with_file_and_line_counted_and_reading_continues()
    {
        var path = _dir.File("bad.jsonl");
        var first = SampleData.Logs(2, "first");
        var last = SampleData.Logs(3, "last");
        var badId = Line(SampleData.Logs(1)).Replace("\"traceId\":\"", "\"traceId\":\"zz");
        await File.WriteAllTextAsync(path, Line(first) + "{not json\n" + badId + "[1,2]\n" + Line(last));

        var l = new Sink<ExportLogsServiceRequest>();
        var receiver = Create(Config(), new ReceiverConsumers(null, null, l));
        await receiver.StartAsync(new TestHost(), CancellationToken.None);
        await Eventually.True(() => l.Payloads.Count == 2, "the good lines");
        await receiver.ShutdownAsync(CancellationToken.None);

        Assert.Equal([first, last], l.Payloads.ToArray());
        var errors = _logger.Messages(LogLevel.Error).ToList();
        Assert.Equal(3, errors.Count);
        Assert.Contains($"{path}:2:", errors[0]);
        Assert.Contains($"{path}:3:", errors[1]);
        Assert.Contains("$.resourceLogs[0].scopeLogs[0].logRecords[0].traceId", errors[1]);
        Assert.Contains($"{path}:4:", errors[2]);
        // The id error is a logs line: one refused log record (its real count is unknown).
        Assert.Equal(1, _settings.Metrics.Read("otelcol_receiver_refused_log_records", ("receiver", "otlpjsonfile"), ("transport", "file")));
        Assert.Equal(5, _settings.Metrics.Read("otelcol_receiver_accepted_log_records", ("receiver", "otlpjsonfile"), ("transport", "file")));
    }

    [Fact]
    public async Task Backpressure_retries_the_same_line_without_dropping_or_reordering()
    {
        var batches = Enumerable.Range(0, 3).Select(i => SampleData.Traces(2, $"svc-{i}")).ToList();
        await File.WriteAllTextAsync(_dir.File("q.jsonl"), string.Concat(batches.Select(Line)));
        var t = new Sink<ExportTraceServiceRequest>().RefuseInTurn([.. Enumerable.Repeat(new RetryableDataException("queue full", TimeSpan.FromMilliseconds(20)), 3)]);
        var receiver = Create(Config(), new ReceiverConsumers(t, null, null));
        await receiver.StartAsync(new TestHost(), CancellationToken.None);
        await Eventually.True(() => t.Payloads.Count == 3, "every batch");
        await receiver.ShutdownAsync(CancellationToken.None);

        Assert.Equal(3, t.Refusals);
        Assert.Equal(batches, t.Payloads.ToList());
        Assert.Equal(6, _settings.Metrics.Read("otelcol_receiver_accepted_spans", ("receiver", "otlpjsonfile"), ("transport", "file")));
        Assert.Equal(0, _settings.Metrics.Read("otelcol_receiver_refused_spans", ("receiver", "otlpjsonfile"), ("transport", "file")));
    }

    [Fact]
    public async Task Lines_of_signals_no_pipeline_uses_are_skipped_quietly()
    {
        var traces = SampleData.Traces(1);
        await File.WriteAllTextAsync(_dir.File("mixed.jsonl"), Line(SampleData.Metrics(3)) + Line(traces));
        var t = new Sink<ExportTraceServiceRequest>();
        var receiver = Create(Config(), new ReceiverConsumers(t, null, null));
        await receiver.StartAsync(new TestHost(), CancellationToken.None);
        await Eventually.True(() => t.Payloads.Count == 1, "the traces line");
        await receiver.ShutdownAsync(CancellationToken.None);
        Assert.Empty(_logger.Messages(LogLevel.Error));
    }

    [Fact]
    public async Task Replay_file_reads_a_rewritten_file_again_in_full()
    {
        var path = _dir.File("replay.jsonl");
        await File.WriteAllTextAsync(path, Line(SampleData.Traces(1, "v1")));
        var t = new Sink<ExportTraceServiceRequest>();
        var receiver = Create(Config() with { ReplayFile = true }, new ReceiverConsumers(t, null, null));
        await receiver.StartAsync(new TestHost(), CancellationToken.None);
        await Eventually.True(() => t.Payloads.Count == 1, "first read");
        await File.WriteAllTextAsync(path, Line(SampleData.Traces(1, "v2")) + Line(SampleData.Traces(1, "v2b")));
        await Eventually.True(() => t.Payloads.Count == 3, "the replay");
        await receiver.ShutdownAsync(CancellationToken.None);
        Assert.Equal(["v1", "v2", "v2b"], t.Payloads.Select(r => r.ResourceSpans[0].Resource.Attributes[0].Value.StringValue));
    }

    [Fact]
    public async Task A_truncated_file_is_read_again_from_its_start()
    {
        var path = _dir.File("trunc.jsonl");
        await File.WriteAllTextAsync(path, Line(SampleData.Traces(1, "a")) + Line(SampleData.Traces(1, "b")));
        var t = new Sink<ExportTraceServiceRequest>();
        var receiver = Create(Config(), new ReceiverConsumers(t, null, null));
        await receiver.StartAsync(new TestHost(), CancellationToken.None);
        await Eventually.True(() => t.Payloads.Count == 2, "first content");
        await File.WriteAllTextAsync(path, Line(SampleData.Traces(1, "c")));
        await Eventually.True(() => t.Payloads.Count == 3, "content after truncation");
        await receiver.ShutdownAsync(CancellationToken.None);
        Assert.Equal("c", t.Payloads.Last().ResourceSpans[0].Resource.Attributes[0].Value.StringValue);
    }

    [Fact]
    public async Task With_storage_a_restart_resumes_after_the_last_line_read()
    {
        var path = _dir.File("kept.jsonl");
        await File.WriteAllTextAsync(path, Line(SampleData.Traces(1, "one")) + Line(SampleData.Traces(1, "two")));
        var storageId = new ComponentId("file_storage");
        var storageConfig = new OtelAi.Engine.Extensions.FileStorage.FileStorageConfig { Directory = Path.Combine(_dir.Path, "state"), CreateDirectory = true };
        var config = Config() with { Storage = storageId };

        async Task<List<string>> RunAsync(Func<Task> whileRunning, int expected)
        {
            var extension = new OtelAi.Engine.Extensions.FileStorage.FileStorageFactory()
                .CreateExtension(TestSettings.For(storageId, ComponentKind.Extension), storageConfig);
            var host = new TestHost((storageId, extension));
            await extension.StartAsync(host, CancellationToken.None);
            var t = new Sink<ExportTraceServiceRequest>();
            var receiver = Create(config, new ReceiverConsumers(t, null, null));
            await receiver.StartAsync(host, CancellationToken.None);
            await whileRunning();
            await Eventually.True(() => t.Payloads.Count == expected, $"{expected} batches");
            await Task.Delay(200); // a few more polls: nothing is read twice
            await receiver.ShutdownAsync(CancellationToken.None);
            await extension.ShutdownAsync(CancellationToken.None);
            return t.Payloads.Select(r => r.ResourceSpans[0].Resource.Attributes[0].Value.StringValue).ToList();
        }

        Assert.Equal(["one", "two"], await RunAsync(() => Task.CompletedTask, 2));
        // While stopped, a line is appended: the next run reads only that line, though start_at is beginning.
        await File.AppendAllTextAsync(path, Line(SampleData.Traces(1, "three")));
        Assert.Equal(["three"], await RunAsync(() => Task.CompletedTask, 1));
        Assert.Equal(["four"], await RunAsync(() => File.AppendAllTextAsync(path, Line(SampleData.Traces(1, "four"))), 1));
    }

    [Fact]
    public void Config_requires_include_and_a_positive_poll_interval()
    {
        var errors = new OtlpJsonFileReceiverConfig { PollInterval = TimeSpan.Zero }.Validate().ToList();
        Assert.Contains(errors, e => e.Path == "include");
        Assert.Contains(errors, e => e.Path == "poll_interval");
        Assert.Equal(OtlpJsonFileStartAt.End, new OtlpJsonFileReceiverConfig().StartAt);
    }

    [Fact]
    public void Globs_match_like_doublestar()
    {
        var glob = new FileGlob("/var/log/**/app-{a,b}?.json");
        Assert.True(glob.IsMatch("/var/log/app-a1.json"));
        Assert.True(glob.IsMatch("/var/log/x/y/app-b2.json"));
        Assert.False(glob.IsMatch("/var/log/app-c1.json"));
        Assert.False(glob.IsMatch("/var/log/app-a12.json"));
        Assert.Equal("/var/log/", glob.BaseDirectory);
        Assert.True(glob.Recursive);
        var flat = new FileGlob("/data/*.jsonl");
        Assert.False(flat.Recursive);
        Assert.False(flat.IsMatch("/data/sub/x.jsonl"));
        Assert.True(new FileGlob("/data/[ab].jsonl").IsMatch("/data/b.jsonl"));
    }
}
