using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Google.Protobuf;
using OtelAi.Cli;
using OtelAi.Engine;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.TestSupport;

namespace OtelAi.Engine.Tests;

/// <summary>
/// The zpages live page end to end: its JSON API on a running collector fed real OTLP/HTTP, the page itself in real
/// headless Chromium, <c>otelai top</c> under a terminal (tmux) and <c>otelai tap</c> from the command line.
/// </summary>
public sealed class LivePageTests
{
    private const string Token = "live-page-token";
    private const string SecretHeader = "Bearer backend-secret-123";

    /// <summary>A pipeline with a filter (drops /health), a batch, a working debug exporter and a dead OTLP backend with a secret header.</summary>
    private static string Config(int otlpPort, int zpagesPort, string tap = "") => $"""
        receivers:
          otlp:
            protocols:
              http:
                endpoint: 127.0.0.1:{otlpPort}
        processors:
          filter/health:
            error_mode: ignore
            traces:
              span:
                - 'attributes["http.route"] == "/health"'
          batch:
            timeout: 50ms
          tail_sampling:
            decision_wait: 200ms
            policies:
              - name: errors
                type: status_code
                status_code:
                  status_codes: [ERROR]
              - name: keep-some
                type: probabilistic
                probabilistic:
                  sampling_percentage: 50
        exporters:
          debug:
            verbosity: basic
          otlphttp/backend:
            endpoint: http://127.0.0.1:1
            headers:
              authorization: "{SecretHeader}"
            retry_on_failure:
              enabled: false
        extensions:
          bearertokenauth:
            token: {Token}
          zpages:
            endpoint: 127.0.0.1:{zpagesPort}
            auth:
              authenticator: bearertokenauth
        {tap}
        service:
          extensions: [bearertokenauth, zpages]
          telemetry:
            metrics:
              level: none
          pipelines:
            traces:
              receivers: [otlp]
              processors: [filter/health, batch]
              exporters: [debug, otlphttp/backend]
            traces/sampled:
              receivers: [otlp]
              processors: [tail_sampling]
              exporters: [debug]
        """;

    private static readonly string[] Components =
        ["receiver/otlp", "processor/filter/health", "processor/batch", "processor/tail_sampling", "exporter/debug", "exporter/otlphttp/backend"];

    [Fact]
    public async Task Api_serves_the_graph_live_rates_redacted_config_recent_errors_and_requires_the_token()
    {
        var otlpPort = TestPorts.GetFree();
        var zpagesPort = TestPorts.GetFree();
        await using var collector = Collector.FromYaml(Config(otlpPort, zpagesPort), BuiltinComponents.CreateRegistry(), Harness.QuietOptions);
        await collector.StartAsync();
        using var api = Client(zpagesPort, Token);
        using var anonymous = Client(zpagesPort, null);

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/v1/stats")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/debug/servicez")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Client(zpagesPort, "wrong").GetAsync("/api/v1/graph")).StatusCode);
        // The page's shell holds no data: it loads, then asks for the token.
        var shell = await anonymous.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, shell.StatusCode);
        Assert.Contains("/live.js", await shell.Content.ReadAsStringAsync());

        var graph = JsonDocument.Parse(await api.GetStringAsync("/api/v1/graph")).RootElement;
        Assert.Equal(Components.Order(), graph.GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("component").GetString()).Distinct().Order());
        var edges = graph.GetProperty("edges").EnumerateArray().Select(e => $"{e.GetProperty("from").GetString()}>{e.GetProperty("to").GetString()}").ToList();
        Assert.Contains("receiver/otlp>processor/filter/health@traces", edges);
        Assert.Contains("processor/filter/health@traces>processor/batch@traces", edges);
        Assert.Contains("processor/batch@traces>exporter/otlphttp/backend", edges);
        Assert.Contains("processor/tail_sampling@traces/sampled>exporter/debug", edges);

        using var load = new SpanLoad(otlpPort);
        var first = await StatsAsync(api);
        await WaitForAsync(async () => Node(await StatsAsync(api), "receiver/otlp").GetProperty("in_rate").GetDouble() > 0, "a receiver rate");
        var stats = await StatsAsync(api);
        var receiver = Node(stats, "receiver/otlp");
        Assert.True(receiver.GetProperty("in_total").GetDouble() > Node(first, "receiver/otlp").GetProperty("in_total").GetDouble());
        await WaitForAsync(async () => Node(await StatsAsync(api), "processor/filter/health@traces").GetProperty("dropped_total").GetDouble() > 0, "filter drops");
        stats = await StatsAsync(api);
        var filter = Node(stats, "processor/filter/health@traces");
        // Half the spans are /health: the filter passes on what it does not drop.
        Assert.Equal(filter.GetProperty("in_total").GetDouble(), filter.GetProperty("out_total").GetDouble() + filter.GetProperty("dropped_total").GetDouble(), 0);
        Assert.True(stats.GetProperty("process").GetProperty("rss_bytes").GetDouble() > 0);
        var panel = Assert.Single(stats.GetProperty("panels").EnumerateArray());
        Assert.Equal("processor/tail_sampling", panel.GetProperty("component").GetString());
        Assert.Equal(["errors", "keep-some"], panel.GetProperty("tables")[0].GetProperty("rows").EnumerateArray().Select(r => r[0].GetString()));

        await WaitForAsync(async () => Node(await StatsAsync(api), "exporter/otlphttp/backend").GetProperty("status").GetString() == "failing", "the dead backend's status");
        var debug = Node(await StatsAsync(api), "exporter/debug");
        Assert.True(debug.GetProperty("sent_total").GetDouble() > 0);
        Assert.Equal(0, debug.GetProperty("retries_total").GetDouble());
        Assert.True(debug.GetProperty("latency_ms").GetDouble() >= 0);
        var backend = JsonDocument.Parse(await api.GetStringAsync("/api/v1/components/exporter/otlphttp/backend")).RootElement;
        var config = backend.GetProperty("config").GetString()!;
        Assert.Contains("endpoint: http://127.0.0.1:1", config);
        Assert.Contains("[REDACTED]", config);
        Assert.DoesNotContain("backend-secret-123", config);
        Assert.Contains("Connection refused", backend.GetProperty("recent_errors")[0].GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync("/api/v1/components/exporter/nope")).StatusCode);

        // The stream pushes a reading a second.
        using var stream = await OpenEventsAsync(api, "/api/v1/stream");
        var events = await ReadEventsAsync(stream, 2, TimeSpan.FromSeconds(10));
        Assert.All(events, e => Assert.Equal("stats", e.Name));
    }

    [Fact]
    public async Task Tap_shows_only_matching_items_redacted_bounded_in_rate_and_refuses_bad_requests()
    {
        var otlpPort = TestPorts.GetFree();
        var zpagesPort = TestPorts.GetFree();
        var tap = """
                tap:
                  max_items_per_second: 5
                  max_open: 1
                  redact_values: ['user-\d+']
            """;
        await using var collector = Collector.FromYaml(Config(otlpPort, zpagesPort, tap), BuiltinComponents.CreateRegistry(), Harness.QuietOptions);
        await collector.StartAsync();
        using var api = Client(zpagesPort, Token);

        var bad = await api.GetAsync("/api/v1/tap?component=receiver/otlp&where=" + Uri.EscapeDataString("attributes[\"x\" =="));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("invalid where condition", await bad.Content.ReadAsStringAsync());
        var unknown = await api.GetAsync("/api/v1/tap?component=processor/nope");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("processor/batch", await unknown.Content.ReadAsStringAsync());

        // A flood: 400 spans a request, as fast as the receiver takes them.
        using var load = new SpanLoad(otlpPort, spansPerRequest: 400, interval: TimeSpan.Zero);
        var where = Uri.EscapeDataString("attributes[\"http.route\"] == \"/v1/chat/completions\"");
        using var stream = await OpenEventsAsync(api, $"/api/v1/tap?component=receiver/otlp&where={where}");

        // A second tap is over tap.max_open.
        var second = await api.GetAsync("/api/v1/tap?component=processor/batch");
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.NotNull(second.Headers.RetryAfter);

        var opened = await ReadEventsAsync(stream, 1, TimeSpan.FromSeconds(10));
        Assert.Equal("open", opened[0].Name);
        var clock = Stopwatch.StartNew();
        var items = await ReadEventsAsync(stream, 12, TimeSpan.FromSeconds(30));
        var seconds = clock.Elapsed.TotalSeconds;
        // 5 a second, after a first burst of 5: 12 items take at least about a second and a half however fast spans arrive.
        Assert.True(seconds >= 1.2, $"12 items in {seconds:0.00}s: faster than max_items_per_second 5");
        foreach (var (name, data) in items)
        {
            Assert.Equal("item", name);
            using var json = JsonDocument.Parse(data);
            var span = json.RootElement.GetProperty("item").GetProperty("resourceSpans")[0].GetProperty("scopeSpans")[0].GetProperty("spans");
            Assert.Equal(1, span.GetArrayLength());
            var attributes = span[0].GetProperty("attributes").EnumerateArray().ToDictionary(a => a.GetProperty("key").GetString()!, a => a.GetProperty("value").TryGetProperty("stringValue", out var text) ? text.GetString() : null);
            Assert.Equal("/v1/chat/completions", attributes["http.route"]);
            Assert.Equal("[REDACTED]", attributes["http.request.header.authorization"]);
            Assert.Equal("account [REDACTED] on plan pro", attributes["enduser.note"]);
        }
        Assert.True(load.Requests > 20, $"the flood sent only {load.Requests} requests");
    }

    [Fact]
    public async Task Tap_reader_that_stops_reading_holds_a_bounded_number_of_events()
    {
        var otlpPort = TestPorts.GetFree();
        var zpagesPort = TestPorts.GetFree();
        await using var collector = Collector.FromYaml(Config(otlpPort, zpagesPort), BuiltinComponents.CreateRegistry(), Harness.QuietOptions);
        await collector.StartAsync();
        using var api = Client(zpagesPort, Token);
        using var load = new SpanLoad(otlpPort, spansPerRequest: 200, interval: TimeSpan.Zero);
        using var stream = await OpenEventsAsync(api, "/api/v1/tap?component=processor/batch");
        // Not reading for three seconds: the tap queues at most 4 × max_items_per_second events (the rest are dropped
        // and counted); what the socket buffers holds on top is a few kilobytes, not the flood.
        await Task.Delay(TimeSpan.FromSeconds(3));
        var buffered = await ReadEventsAsync(stream, 1000, TimeSpan.FromSeconds(2), stopEarly: true);
        var items = buffered.Count(e => e.Name == "item");
        Assert.InRange(items, 1, 4 * 10 + 3 * 10 + 10);
        Assert.True(load.Requests > 10);
    }

    [Fact]
    [Trait(OtelaiProcess.Trait, OtelaiProcess.Executable)]
    public async Task Top_and_tap_commands_show_every_component_with_rates_under_load()
    {
        using var engine = new EngineUnderLoad();
        var zpagesPort = engine.ZPagesPort;

        // otelai top in a real terminal: a private tmux server, ended by its own socket.
        var socket = $"otelai-top-{Guid.NewGuid():N}";
        var command = string.Join(' ', TopCommandLine(zpagesPort).Select(a => $"'{a}'"));
        Run("tmux", "-L", socket, "new-session", "-d", "-x", "220", "-y", "40", command);
        try
        {
            string screen = "";
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (DateTime.UtcNow < deadline)
            {
                await Task.Delay(500);
                screen = Run("tmux", "-L", socket, "capture-pane", "-p");
                var receiverRow = screen.Split('\n').FirstOrDefault(l => l.StartsWith("receiver/otlp", StringComparison.Ordinal));
                if (Components.All(screen.Contains) && receiverRow is not null && RateColumns(receiverRow).Any(r => r > 0)) break;
            }
            foreach (var component in Components) Assert.Contains(component, screen);
            Assert.Contains("otelai top", screen);
            Assert.Contains("Tail sampling", screen);
            var row = screen.Split('\n').First(l => l.StartsWith("receiver/otlp", StringComparison.Ordinal));
            Assert.True(RateColumns(row).Any(r => r > 0), $"no rate above zero on the receiver row:\n{screen}");
        }
        finally
        {
            Run("tmux", "-L", socket, "kill-server");
        }

        // otelai tap from the command line: three matching items, then it exits.
        var tap = OtelaiProcess.Start("tap", "--endpoint", $"127.0.0.1:{zpagesPort}", "--token", Token, "--component", "processor/batch",
            "--where", "attributes[\"http.route\"] == \"/v1/chat/completions\"", "--count", "3");
        var (exitCode, stderr) = await tap.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Assert.True(exitCode == 0, stderr);
        var lines = tap.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.All(lines, line => Assert.Contains("/v1/chat/completions", line));
        Assert.All(lines, line => Assert.DoesNotContain("\"/health\"", line));

        var refused = OtelaiProcess.Start("top", "--endpoint", $"127.0.0.1:{zpagesPort}", "--once");
        var (refusedCode, refusedError) = await refused.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1, refusedCode);
        Assert.Contains("401", refusedError);
    }

    [Fact]
    public async Task Live_page_in_headless_chromium_shows_rates_config_and_a_filtered_tap()
    {
        using var engine = new EngineUnderLoad();
        var zpagesPort = engine.ZPagesPort;
        var screenshot = RepositoryPaths.Combine("artifacts", "screenshots", "live-page.png");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        var script = RepositoryPaths.Combine("tests", "interop", "live-page.mjs");
        var (exit, stdout, stderr) = await ExternalCommand.RunAsync("node", [script, $"http://127.0.0.1:{zpagesPort}/", Token, string.Join(',', Components),
            "exporter/otlphttp/backend", "receiver/otlp", "attributes[\"http.route\"] == \"/v1/chat/completions\"", screenshot], RepositoryPaths.Interop, timeout: TimeSpan.FromMinutes(2));
        Assert.True(exit == 0, $"{stderr}\n{stdout}\nengine:\n{engine.Process.Output}");
        var seen = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]).RootElement;
        Assert.Empty(seen.GetProperty("pageErrors").EnumerateArray());
        Assert.Contains("/s in", seen.GetProperty("rateText").GetString());
        var config = seen.GetProperty("config").GetString()!;
        Assert.Contains("[REDACTED]", config);
        Assert.DoesNotContain("backend-secret-123", config);
        var tapItems = seen.GetProperty("tapItems").EnumerateArray().Select(i => i.GetString()!).ToList();
        Assert.True(tapItems.Count >= 3);
        Assert.All(tapItems, item => Assert.Contains("/v1/chat/completions", item));
        Assert.All(tapItems, item => Assert.DoesNotContain("\"/health\"", item));
        Assert.Contains("processor/tail_sampling", seen.GetProperty("panels").EnumerateArray().Select(p => p.GetString()));
        Assert.True(new FileInfo(screenshot).Length > 10_000);
    }

    /// <summary>The otelai executable on <see cref="Config"/>, listening, with spans flowing in, for the tests that drive it from outside.</summary>
    private sealed class EngineUnderLoad : IDisposable
    {
        private readonly string _configPath = Path.Combine(Path.GetTempPath(), $"otelai-live-{Guid.NewGuid():N}.yaml");
        private readonly SpanLoad _load;

        public EngineUnderLoad()
        {
            File.WriteAllText(_configPath, Config(OtlpPort, ZPagesPort));
            Process = OtelaiProcess.Start("--config", _configPath);
            Process.WaitUntilListening(OtlpPort, ZPagesPort);
            _load = new SpanLoad(OtlpPort);
        }

        public int OtlpPort { get; } = TestPorts.GetFree();

        public int ZPagesPort { get; } = TestPorts.GetFree();

        public OtelaiProcess Process { get; }

        public void Dispose()
        {
            _load.Dispose();
            Process.Dispose();
            File.Delete(_configPath);
        }
    }

    private static IEnumerable<string> TopCommandLine(int zpagesPort)
    {
        var executable = Environment.GetEnvironmentVariable("OTELAI_EXECUTABLE");
        IEnumerable<string> start = string.IsNullOrEmpty(executable) ? ["dotnet", "exec", Path.Combine(AppContext.BaseDirectory, "otelai.dll")] : [executable];
        return [.. start, "top", "--endpoint", $"127.0.0.1:{zpagesPort}", "--token", Token];
    }

    /// <summary>The IN/S and OUT/S columns of a top row (third and fourth), as numbers (k and M expanded).</summary>
    private static IEnumerable<double> RateColumns(string row)
    {
        var cells = row.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // receiver rows have no pipeline column: component, in/s, out/s, ...
        foreach (var cell in cells.Skip(1).Take(2))
        {
            var scale = cell.EndsWith('k') ? 1e3 : cell.EndsWith('M') ? 1e6 : 1;
            if (double.TryParse(cell.TrimEnd('k', 'M'), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value))
                yield return value * scale;
        }
    }

    private static string Run(string file, params string[] args)
    {
        var (code, output, error) = ExternalCommand.RunAsync(file, args).GetAwaiter().GetResult();
        if (code != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {code}: {error}");
        return output;
    }

    private static HttpClient Client(int port, string? token)
    {
        var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(60) };
        if (token is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private static async Task<JsonElement> StatsAsync(HttpClient api) => JsonDocument.Parse(await api.GetStringAsync("/api/v1/stats")).RootElement;

    private static JsonElement Node(JsonElement stats, string id) =>
        stats.GetProperty("nodes").EnumerateArray().First(n => n.GetProperty("id").GetString() == id);

    private static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"waited 30 s for {what}");
            await Task.Delay(300);
        }
    }

    private static async Task<StreamReader> OpenEventsAsync(HttpClient api, string path)
    {
        var response = await api.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return new StreamReader(await response.Content.ReadAsStreamAsync());
    }

    /// <summary>Up to <paramref name="count"/> events; with <paramref name="stopEarly"/>, what arrives before the time is up.</summary>
    private static async Task<List<(string Name, string Data)>> ReadEventsAsync(StreamReader stream, int count, TimeSpan timeout, bool stopEarly = false)
    {
        var events = new List<(string, string)>();
        using var cancel = new CancellationTokenSource(timeout);
        string name = "message", data = "";
        try
        {
            while (events.Count < count && await stream.ReadLineAsync(cancel.Token) is { } line)
            {
                if (line.StartsWith("event: ", StringComparison.Ordinal)) name = line[7..];
                else if (line.StartsWith("data: ", StringComparison.Ordinal)) data = line[6..];
                else if (line.Length == 0 && data.Length > 0)
                {
                    events.Add((name, data));
                    (name, data) = ("message", "");
                }
            }
        }
        catch (OperationCanceledException) when (stopEarly)
        {
        }
        if (!stopEarly && events.Count < count) throw new TimeoutException($"{events.Count} of {count} events in {timeout}");
        return events;
    }

    /// <summary>
    /// OTLP/HTTP protobuf requests in the background until disposed: half the spans on /v1/chat/completions (one in
    /// five an error), half on /health, each with a credential header attribute and an end-user note.
    /// </summary>
    private sealed class SpanLoad : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _sending;
        private int _requests;

        public SpanLoad(int otlpPort, int spansPerRequest = 10, TimeSpan? interval = null)
        {
            _sending = Task.Run(async () =>
            {
                using var http = new HttpClient();
                var seed = 0;
                while (!_stop.IsCancellationRequested)
                {
                    var request = SampleData.Traces(spansPerRequest, seed: ++seed);
                    var i = 0;
                    foreach (var span in request.ResourceSpans.SelectMany(r => r.ScopeSpans).SelectMany(s => s.Spans))
                    {
                        span.Attributes.Add(SampleData.Attr("http.route", i % 2 == 0 ? "/v1/chat/completions" : "/health"));
                        span.Attributes.Add(SampleData.Attr("http.request.header.authorization", "Bearer caller-secret"));
                        span.Attributes.Add(SampleData.Attr("enduser.note", $"account user-{seed} on plan pro"));
                        if (i % 5 == 0) span.Status = new Otlp.Proto.Trace.V1.Status { Code = Otlp.Proto.Trace.V1.Status.Types.StatusCode.Error };
                        i++;
                    }
                    using var body = new ByteArrayContent(request.ToByteArray());
                    body.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
                    try
                    {
                        using var response = await http.PostAsync($"http://127.0.0.1:{otlpPort}/v1/traces", body, _stop.Token);
                        Interlocked.Increment(ref _requests);
                        if (interval is not { } wait || wait > TimeSpan.Zero) await Task.Delay(interval ?? TimeSpan.FromMilliseconds(20), _stop.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        break;
                    }
                    catch (HttpRequestException)
                    {
                        await Task.Delay(100);
                    }
                }
            });
        }

        public int Requests => Volatile.Read(ref _requests);

        public void Dispose()
        {
            _stop.Cancel();
            try { _sending.Wait(TimeSpan.FromSeconds(10)); }
            catch (AggregateException) { }
        }
    }
}
