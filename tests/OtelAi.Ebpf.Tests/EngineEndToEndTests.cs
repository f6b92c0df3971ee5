using System.Net;
using System.Text;
using OtelAi.Otlp;
using OtelAi.Otlp.Json;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Otlp.Proto.Metrics.V1;
using OtelAi.Otlp.Proto.Resource.V1;
using OtelAi.Otlp.Proto.Trace.V1;
using OtelAi.TestSupport;

namespace OtelAi.Ebpf.Tests;

/// <summary>
/// Real kernel, real engine: the <c>otelai</c> CLI runs a YAML config whose <c>ebpf</c> receiver loads the bundled
/// http_requests program for a Python HTTP server's pid; the spans (enriched by aiattributes) and the request-duration
/// histogram are read back from the file exporters' OTLP/JSON output, as a user would see them.
/// </summary>
public sealed class EngineEndToEndTests : IDisposable
{
    private static readonly HttpClient Health = new() { Timeout = TimeSpan.FromSeconds(5) };
    private readonly string _dir = Directory.CreateTempSubdirectory("otelai-ebpf-e2e-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private sealed record Request(HttpMethod Method, string Target, int Status, string? Body = null)
    {
        public string Path => Target.Split('?')[0];
    }

    [Trait(OtelaiProcess.Trait, OtelaiProcess.Executable)]
    [Fact]
    public async Task Engine_from_yaml_traces_an_http_server_into_file_exporter_spans_and_duration_histogram()
    {
        using var server = new HttpServerProcess("--model", "llama-3-8b");
        var healthPort = TestPorts.GetFree();
        var tracesFile = System.IO.Path.Combine(_dir, "traces.jsonl");
        var metricsFile = System.IO.Path.Combine(_dir, "metrics.jsonl");
        var config = Write("collector.yaml", $$"""
            receivers:
              ebpf:
                program: http_requests
                pids: [{{server.Pid}}]
                route_templates: ["/v1/models/{model}/infer"]
                metrics_interval: 1s
            processors:
              aiattributes:
                inference_spans:
                  route: "/infer$"
              batch:
                timeout: 200ms
            exporters:
              file/traces:
                path: {{tracesFile}}
                flush_interval: 100ms
              file/metrics:
                path: {{metricsFile}}
                flush_interval: 100ms
            extensions:
              health_check:
                endpoint: 127.0.0.1:{{healthPort}}
            service:
              extensions: [health_check]
              pipelines:
                traces:
                  receivers: [ebpf]
                  processors: [aiattributes, batch]
                  exporters: [file/traces]
                metrics:
                  receivers: [ebpf]
                  processors: [batch]
                  exporters: [file/metrics]
              telemetry:
                metrics:
                  level: none
            """);

        using var engine = OtelaiProcess.Start("--config", config);
        // health_check answers 200 only once every component has started, i.e. the probe is attached.
        await Until(engine, () => HealthStatus(healthPort) == HttpStatusCode.OK, "health_check to report 200");

        Request[] requests =
        [
            new(HttpMethod.Get, "/health", 200),
            new(HttpMethod.Get, "/status/404", 404),
            new(HttpMethod.Post, "/v1/models/llama/infer?stream=false", 200, new string('x', 3000)),
            new(HttpMethod.Get, "/status/503", 503),
            new(HttpMethod.Get, "/slow/300", 200),
        ];
        var sentFrom = UnixNanosNow();
        using (var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1 }))
            foreach (var request in requests)
            {
                using var message = new HttpRequestMessage(request.Method, server.Url(request.Target));
                if (request.Body is not null) message.Content = new StringContent(request.Body);
                using var response = await client.SendAsync(message);
                Assert.Equal(request.Status, (int)response.StatusCode);
                await response.Content.ReadAsStringAsync();
            }
        var sentUntil = UnixNanosNow();

        await Until(engine, () => Spans(tracesFile).Count >= requests.Length, $"{requests.Length} spans in {tracesFile}");
        var spans = Spans(tracesFile);
        Assert.Equal(requests.Length, spans.Count);
        var bySending = requests.Select(r => Assert.Single(spans, s => s.Span.Attributes.Get("url.path")?.StringValue == r.Path)).ToList();
        for (var i = 0; i < requests.Length; i++)
        {
            var (request, (resource, span)) = (requests[i], bySending[i]);
            Assert.Equal(Span.Types.SpanKind.Server, span.Kind);
            Assert.Equal(request.Method.Method, span.Attributes.Get("http.request.method")!.StringValue);
            Assert.Equal(request.Status, span.Attributes.Get("http.response.status_code")!.IntValue);
            Assert.Equal(request.Status >= 500 ? Status.Types.StatusCode.Error : Status.Types.StatusCode.Unset, span.Status?.Code ?? Status.Types.StatusCode.Unset);
            Assert.Equal("llama-3-8b", span.Attributes.Get("gen_ai.request.model")!.StringValue);
            Assert.Equal("127.0.0.1", span.Attributes.Get("network.peer.address")!.StringValue);
            Assert.Equal(16, span.TraceId.Length);
            Assert.Equal(8, span.SpanId.Length);
            Assert.Equal(server.Pid, resource.Attributes.Get("process.pid")!.IntValue);
            Assert.Equal("python-model-server", resource.Attributes.Get("service.name")!.StringValue);
            // Kernel CLOCK_MONOTONIC converted to wall-clock time: inside the window the client was sending in.
            Assert.InRange(span.StartTimeUnixNano, sentFrom - 1_000_000_000UL, sentUntil);
            Assert.InRange(span.EndTimeUnixNano, span.StartTimeUnixNano, sentUntil + 1_000_000_000UL);
        }
        // One keep-alive connection: one client port, and requests one after another (each answered before the next).
        Assert.Single(spans.Select(s => s.Span.Attributes.Get("network.peer.port")!.IntValue).Distinct());
        for (var i = 1; i < requests.Length; i++)
            Assert.True(bySending[i - 1].Span.EndTimeUnixNano <= bySending[i].Span.StartTimeUnixNano, $"{requests[i - 1].Path} ends before {requests[i].Path} starts");

        var infer = bySending[2].Span;
        Assert.Equal("POST /v1/models/{model}/infer", infer.Name);
        Assert.Equal("/v1/models/{model}/infer", infer.Attributes.Get("http.route")!.StringValue);
        Assert.True(infer.Attributes.Get("http.request.size")!.IntValue >= 3000);
        // The AI enrichment runs on eBPF spans like on OTLP ones: model_id everywhere, inference_time on inference spans.
        Assert.All(bySending, s => Assert.Equal("llama-3-8b", s.Span.Attributes.Get("model_id")!.StringValue));
        Assert.Equal((infer.EndTimeUnixNano - infer.StartTimeUnixNano) / 1e6, infer.Attributes.Get("inference_time")!.DoubleValue, 3);
        Assert.All(bySending.Where(s => s.Span != infer), s => Assert.Null(s.Span.Attributes.Get("inference_time")));
        var fast = bySending[0].Span;
        var slow = bySending[4].Span;
        Assert.Equal("GET", fast.Name);
        Assert.Null(fast.Attributes.Get("http.route"));
        Assert.InRange((slow.EndTimeUnixNano - slow.StartTimeUnixNano) / 1e6, 290, 10_000);
        Assert.True(fast.EndTimeUnixNano - fast.StartTimeUnixNano < slow.EndTimeUnixNano - slow.StartTimeUnixNano, "/health is faster than /slow/300");

        // The cumulative histogram: one series per method, route and status, counting every request.
        var expectedSeries = requests
            .GroupBy(r => (r.Method.Method, Route: r.Path.StartsWith("/v1/models/") ? "/v1/models/{model}/infer" : null, r.Status))
            .ToDictionary(g => g.Key, g => (ulong)g.Count());
        await Until(engine, () => LatestDurationHistogram(metricsFile)?.DataPoints.Sum(p => (long)p.Count) == requests.Length,
            $"http.server.request.duration counting {requests.Length} requests in {metricsFile}");
        var histogram = LatestDurationHistogram(metricsFile)!;
        Assert.Equal(AggregationTemporality.Cumulative, histogram.AggregationTemporality);
        var series = histogram.DataPoints.ToDictionary(
            p => (p.Attributes.Get("http.request.method")!.StringValue, p.Attributes.Get("http.route")?.StringValue, (int)p.Attributes.Get("http.response.status_code")!.IntValue),
            p => p.Count);
        Assert.Equal(expectedSeries.OrderBy(kv => kv.Key.ToString()), series.OrderBy(kv => kv.Key.ToString()));
        var getOk = histogram.DataPoints.Single(p => p.Attributes.Get("http.request.method")!.StringValue == "GET" && p.Attributes.Get("http.response.status_code")!.IntValue == 200);
        Assert.InRange(getOk.Sum, 0.29, 10); // /health + /slow/300
        Assert.Equal(getOk.Count, (ulong)getOk.BucketCounts.Sum(c => (long)c));

        engine.Signal("TERM");
        var (exitCode, stderr) = await engine.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.True(exitCode == 0, $"exit code {exitCode}; stderr:\n{stderr}");
        Assert.Contains("ebpf receiver ebpf reading", stderr);
        Assert.Equal(requests.Length, Spans(tracesFile).Count); // nothing duplicated or added by the shutdown drain
    }

    [Trait(OtelaiProcess.Trait, OtelaiProcess.Executable)]
    [Fact]
    public async Task Validate_names_the_line_key_and_expectation_of_bad_ebpf_settings()
    {
        var config = Write("bad.yaml", """
            receivers:
              ebpf:
                program: nope
                pids: [1]
                perf_buffer_pages: 3
            exporters:
              debug:
            service:
              pipelines:
                traces:
                  receivers: [ebpf]
                  exporters: [debug]
            """);

        using var otelai = OtelaiProcess.Start("validate", "--config", config);
        var (exitCode, stderr) = await otelai.WaitForExitAsync();

        Assert.True(exitCode == 1, $"exit code {exitCode}; stderr:\n{stderr}");
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains($"{config}:3:5: receivers.ebpf.program: unknown bundled program \"nope\" (available: http_requests)", lines);
        Assert.Contains($"{config}:5:5: receivers.ebpf.perf_buffer_pages: must be a power of two, got 3", lines);
        Assert.Equal("invalid configuration: 2 error(s)", lines[^1]);
    }

    private string Write(string name, string text)
    {
        var path = System.IO.Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static ulong UnixNanosNow() => (ulong)(DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;

    /// <summary>Polls (up to 30 s) while the engine runs; a timeout or an early exit shows what the engine printed.</summary>
    private static async Task Until(OtelaiProcess engine, Func<bool> done, string what)
    {
        try
        {
            await ReceiverUnderTest.WaitUntil(() => engine.HasExited
                ? throw new InvalidOperationException($"otelai exited while waiting for {what}; output:\n{engine.Output}")
                : done(), what);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}; otelai output:\n{engine.Output}", e);
        }
    }

    private static HttpStatusCode? HealthStatus(int port)
    {
        try
        {
            using var response = Health.GetAsync($"http://127.0.0.1:{port}/").GetAwaiter().GetResult();
            return response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return null; // not listening yet
        }
    }

    private static List<(Resource Resource, Span Span)> Spans(string file) =>
        CompleteLines(file).Select(OtlpJson.Parse<ExportTraceServiceRequest>)
            .SelectMany(r => r.ResourceSpans)
            .SelectMany(rs => rs.ScopeSpans.SelectMany(ss => ss.Spans).Select(s => (rs.Resource, s)))
            .ToList();

    /// <summary>The last exported http.server.request.duration (cumulative, so it holds every request so far).</summary>
    private static Histogram? LatestDurationHistogram(string file) =>
        CompleteLines(file).Select(OtlpJson.Parse<ExportMetricsServiceRequest>)
            .SelectMany(r => r.ResourceMetrics).SelectMany(rm => rm.ScopeMetrics).SelectMany(sm => sm.Metrics)
            .LastOrDefault(m => m.Name == "http.server.request.duration")?.Histogram;

    /// <summary>The lines the exporter has finished (the last one may still be being written).</summary>
    private static IEnumerable<string> CompleteLines(string file)
    {
        if (!File.Exists(file)) return [];
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var text = new StreamReader(stream, Encoding.UTF8).ReadToEnd();
        var end = text.LastIndexOf('\n');
        return end < 0 ? [] : text[..end].Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}
