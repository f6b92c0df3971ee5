using Microsoft.Extensions.Logging;
using OtelAi.Engine.Logging;
using System.Text.Json;

namespace OtelAi.Engine.Tests;

public sealed class LoggingTests
{
    [Fact]
    public void Console_encoding_writes_one_tab_separated_line_per_event()
    {
        var output = new StringWriter();
        using var provider = new LineLoggerProvider(output, LogLevel.Information, LogEncoding.Console);
        var logger = provider.CreateLogger("exporter/otlp/backup");

        logger.LogDebug("not shown");
        logger.LogWarning("retrying in {Delay}", "5s");
        logger.LogError(new IOException("connection reset\nby peer"), "send failed");

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        var fields = lines[0].Split('\t');
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", fields[0]);
        Assert.Equal(["warn", "exporter/otlp/backup", "retrying in 5s"], fields[1..]);
        var error = lines[1].Split('\t');
        Assert.Equal(["error", "exporter/otlp/backup", "send failed"], error[1..4]);
        Assert.StartsWith("System.IO.IOException: connection reset\\nby peer", error[4]);
    }

    [Fact]
    public void A_multi_line_message_keeps_its_lines_indented_under_its_event()
    {
        var output = new StringWriter();
        using (var provider = new LineLoggerProvider(output, LogLevel.Information, LogEncoding.Console))
            provider.CreateLogger("exporter/debug").LogInformation("{Body}", "span a\r\nspan b\nspan c");
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.EndsWith("\texporter/debug\tspan a", lines[0]);
        Assert.Equal(["\tspan b", "\tspan c"], lines[1..]);
    }

    [Fact]
    public void Repeated_messages_are_sampled_per_template_and_tick_as_otelcol_does()
    {
        var output = new StringWriter();
        var time = new OtelAi.TestSupport.ManualTime();
        using (var provider = new LineLoggerProvider(output, LogLevel.Information, LogEncoding.Console, new OtelAi.Engine.Config.LogSamplingConfig(), time))
        {
            var logger = provider.CreateLogger("exporter/otlp");
            for (var i = 1; i <= 250; i++) logger.LogInformation("attempt {Attempt} failed", i);
            logger.LogWarning("a different message"); // its own count
            time.Advance(TimeSpan.FromSeconds(10));
            logger.LogInformation("attempt {Attempt} failed", 251); // a new tick starts over
        }
        var attempts = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.Contains("attempt")).Select(l => int.Parse(l.Split(' ')[^2])).ToList();
        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 110, 210, 251], attempts);
        Assert.Contains("a different message", output.ToString());
    }

    [Fact]
    public void Stack_traces_are_written_only_at_debug_level()
    {
        Exception Thrown()
        {
            try { throw new InvalidOperationException("cannot listen", new IOException("address in use")); }
            catch (Exception ex) { return ex; }
        }
        string Logged(LogLevel level)
        {
            var output = new StringWriter();
            using (var provider = new LineLoggerProvider(output, level, LogEncoding.Console))
                provider.CreateLogger("service").LogError(Thrown(), "start failed");
            return output.ToString();
        }
        var info = Logged(LogLevel.Information);
        Assert.Contains("start failed\tSystem.InvalidOperationException: cannot listen ---> System.IO.IOException: address in use\n", info);
        Assert.DoesNotContain(" at ", info);
        Assert.Contains(" at ", Logged(LogLevel.Debug));
    }

    [Fact]
    public void Json_encoding_splits_kind_and_name()
    {
        var output = new StringWriter();
        using var provider = new LineLoggerProvider(output, LogLevel.Debug, LogEncoding.Json);
        provider.CreateLogger("receiver/otlp").LogDebug("listening on {Port}", 4317);
        provider.CreateLogger("service").LogInformation("ready");

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var first = JsonDocument.Parse(lines[0]).RootElement;
        Assert.Equal("debug", first.GetProperty("level").GetString());
        Assert.Equal("receiver", first.GetProperty("kind").GetString());
        Assert.Equal("otlp", first.GetProperty("name").GetString());
        Assert.Equal("listening on 4317", first.GetProperty("msg").GetString());
        Assert.Equal("service", JsonDocument.Parse(lines[1]).RootElement.GetProperty("logger").GetString());
    }

    [Theory]
    [InlineData("debug", LogLevel.Debug)]
    [InlineData("info", LogLevel.Information)]
    [InlineData("warn", LogLevel.Warning)]
    [InlineData("error", LogLevel.Error)]
    public void Levels_follow_otelcol_names(string name, LogLevel level) => Assert.Equal(level, LineLoggerProvider.ParseLevel(name));

    [Fact]
    public void Unknown_level_is_a_clear_error() =>
        Assert.Equal("unknown log level \"verbose\"; expected debug, info, warn or error",
            Assert.Throws<ArgumentException>(() => LineLoggerProvider.ParseLevel("verbose")).Message);

    [Fact]
    public async Task Collector_logs_lifecycle_events_with_the_service_category()
    {
        var output = new StringWriter();
        var harness = new Harness();
        using var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(new LineLoggerProvider(output, LogLevel.Debug, LogEncoding.Console)));
        await using (var collector = harness.Builder()
            .AddReceiver("testrecv").AddExporter("collect")
            .AddPipeline("traces", receivers: ["testrecv"], exporters: ["collect"])
            .Build(new CollectorOptions { LoggerFactory = loggers }))
        {
            await collector.StartAsync();
        }
        var text = output.ToString();
        Assert.Contains("\tinfo\tservice\tEverything is ready. Begin running and processing data.\n", text);
        Assert.Contains("\tdebug\tservice\tStarting exporter \"collect\" (traces)\n", text);
        Assert.Contains("\tinfo\tservice\tShutdown complete.\n", text);
    }
}
