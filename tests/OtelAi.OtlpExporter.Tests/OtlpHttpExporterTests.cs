using OtelAi.Engine.Config;
using OtelAi.Otlp;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Compression;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using OtelAi.Engine.Components;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.Exporter;
using OtelAi.Engine.Settings;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Otlp.Json;
using OtelAi.Exporters.OtlpHttp;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.TestSupport;

namespace OtelAi.OtlpExporter.Tests;

/// <summary>The otlphttp exporter against a small Kestrel backend whose answers each test scripts.</summary>
public sealed class OtlpHttpExporterTests
{
    private static readonly (string, string) Label = ("exporter", "otlphttp/backend");

    internal sealed record Received(string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body, DateTime At);

    internal sealed record Reply(int Status, string? ContentType = null, byte[]? Body = null, string? RetryAfter = null);

    /// <summary>Records every request (body decompressed) and answers with the next scripted reply, then 200.</summary>
    internal sealed class Backend : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentQueue<Reply> _script;
        public ConcurrentQueue<Received> Requests { get; } = new();
        public string Url { get; }

        private Backend(WebApplication app, ConcurrentQueue<Reply> script, string url)
        {
            _app = app;
            _script = script;
            Url = url;
        }

        public static async Task<Backend> StartAsync(params Reply[] script)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            var queue = new ConcurrentQueue<Reply>(script);
            Backend? backend = null;
            app.MapPost("/{**path}", async (HttpContext context) =>
            {
                using var buffer = new MemoryStream();
                var body = context.Request.Headers.ContentEncoding.ToString() switch
                {
                    "gzip" => new GZipStream(context.Request.Body, CompressionMode.Decompress),
                    "deflate" => new ZLibStream(context.Request.Body, CompressionMode.Decompress),
                    _ => context.Request.Body,
                };
                await body.CopyToAsync(buffer);
                // Kestrel reuses its header collection after the request: keep a copy.
                var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
                backend!.Requests.Enqueue(new Received(context.Request.Path, headers, buffer.ToArray(), DateTime.UtcNow));
                var reply = queue.TryDequeue(out var next) ? next : new Reply(200);
                context.Response.StatusCode = reply.Status;
                if (reply.RetryAfter is not null) context.Response.Headers.RetryAfter = reply.RetryAfter;
                if (reply.ContentType is not null) context.Response.ContentType = reply.ContentType;
                if (reply.Body is not null) await context.Response.Body.WriteAsync(reply.Body);
            });
            await app.StartAsync();
            var url = app.Services.GetService(typeof(IServer)) is IServer server
                ? server.Features.Get<IServerAddressesFeature>()!.Addresses.First()
                : throw new InvalidOperationException("no server");
            backend = new Backend(app, queue, url);
            return backend;
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }

    private static readonly RetryConfig FastRetry = new() { InitialInterval = TimeSpan.FromMilliseconds(50), MaxInterval = TimeSpan.FromMilliseconds(200), MaxElapsedTime = TimeSpan.FromSeconds(60) };

    private static async Task<(IExporter<T> Exporter, MetricRegistry Metrics, CapturingLogger Log)> StartAsync<T>(OtlpHttpExporterConfig config)
        where T : class, IMessage<T>, new()
    {
        Assert.Empty(ConfigValidation.Validate(config));
        var log = new CapturingLogger();
        var metrics = new MetricRegistry();
        var exporter = new OtlpHttpExporterFactory().CreateExporter<T>(Settings.For("otlphttp/backend", ComponentKind.Exporter, log, metrics), config);
        await exporter.StartAsync(new TestHost(), CancellationToken.None);
        return (exporter, metrics, log);
    }

    private static OtlpHttpExporterConfig Config(string url) =>
        new() { Client = new HttpClientSettings { Endpoint = url }, RetryOnFailure = FastRetry, SendingQueue = new QueueConfig { Enabled = false } };

    [Fact]
    public async Task Proxy_url_sends_through_the_proxy_and_the_connection_keys_of_confighttp_load()
    {
        // A minimal HTTP proxy on loopback: it records the absolute-form request line and answers 200.
        using var proxy = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        proxy.Start();
        var requestLine = Task.Run(async () =>
        {
            using var client = await proxy.AcceptTcpClientAsync();
            var stream = client.GetStream();
            // The head of the request, up to its blank line (the body is not needed to answer).
            var head = new List<byte>();
            var one = new byte[1];
            while (!(head.Count >= 4 && head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n') && await stream.ReadAsync(one) == 1) head.Add(one[0]);
            var lines = System.Text.Encoding.ASCII.GetString([.. head]).Split("\r\n");
            var first = lines[0];
            // Read the body too: closing with unread bytes would reset the connection under the client's feet.
            var length = lines.Where(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)).Select(l => int.Parse(l[15..].Trim())).FirstOrDefault();
            var body = new byte[length];
            await stream.ReadExactlyAsync(body);
            await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n"u8.ToArray());
            return first;
        });
        var config = ConfigLoader.Bind<OtlpHttpExporterConfig>($"""
            endpoint: http://backend.example.invalid:4318
            proxy_url: http://127.0.0.1:{((System.Net.IPEndPoint)proxy.LocalEndpoint).Port}
            idle_conn_timeout: 10s
            max_conns_per_host: 4
            max_idle_conns: 100
            read_buffer_size: 65536
            compression: none
            sending_queue:
              enabled: false
            retry_on_failure:
              enabled: false
            """);
        var (exporter, _, _) = await StartAsync<ExportTraceServiceRequest>(config);
        await exporter.ConsumeAsync(SampleData.Traces(2), CancellationToken.None);
        Assert.Equal("POST http://backend.example.invalid:4318/v1/traces HTTP/1.1", await requestLine.WaitAsync(TimeSpan.FromSeconds(10)));
        await exporter.ShutdownAsync(CancellationToken.None);
        Assert.Contains("proxy_url", Assert.Throws<ConfigException>(() => ConfigLoader.Bind<OtlpHttpExporterConfig>("endpoint: http://h:4318\nproxy_url: socks://x")).Message);
    }

    [Theory]
    [InlineData(OtlpHttpEncoding.Proto, Compression.Gzip)]
    [InlineData(OtlpHttpEncoding.Proto, Compression.None)]
    [InlineData(OtlpHttpEncoding.Json, Compression.Deflate)]
    public async Task Every_signal_is_posted_to_its_path_in_the_configured_encoding(OtlpHttpEncoding encoding, Compression compression)
    {
        await using var backend = await Backend.StartAsync();
        var config = Config(backend.Url + "/otlp/") with { Encoding = encoding };
        config = config with { Client = config.Client with { Compression = compression, Headers = new() { ["X-Scope-OrgID"] = "tenant-b" } } };
        var traces = SampleData.Traces(12);
        var metrics = SampleData.Metrics(9);
        var logs = SampleData.Logs(7);

        var (te, tm, _) = await StartAsync<ExportTraceServiceRequest>(config);
        var (me, _, _) = await StartAsync<ExportMetricsServiceRequest>(config);
        var (le, _, _) = await StartAsync<ExportLogsServiceRequest>(config);
        await te.ConsumeAsync(traces.Clone(), CancellationToken.None);
        await me.ConsumeAsync(metrics.Clone(), CancellationToken.None);
        await le.ConsumeAsync(logs.Clone(), CancellationToken.None);

        var byPath = backend.Requests.ToDictionary(r => r.Path);
        Assert.Equal(["/otlp/v1/logs", "/otlp/v1/metrics", "/otlp/v1/traces"], byPath.Keys.Order());
        Assert.Equal(traces, Decode<ExportTraceServiceRequest>(byPath["/otlp/v1/traces"], encoding));
        Assert.Equal(metrics, Decode<ExportMetricsServiceRequest>(byPath["/otlp/v1/metrics"], encoding));
        Assert.Equal(logs, Decode<ExportLogsServiceRequest>(byPath["/otlp/v1/logs"], encoding));
        var headers = byPath["/otlp/v1/traces"].Headers;
        Assert.Equal(encoding == OtlpHttpEncoding.Json ? "application/json" : "application/x-protobuf", headers["Content-Type"]);
        Assert.Equal(compression == Compression.None ? "" : compression.ToString().ToLowerInvariant(), headers.GetValueOrDefault("Content-Encoding", ""));
        Assert.Equal("tenant-b", headers["X-Scope-OrgID"]);
        Assert.StartsWith("otelai/", headers["User-Agent"]);
        Assert.Equal(12, tm.Read("otelcol_exporter_sent_spans", Label));
        foreach (var exporter in new IComponent[] { te, me, le }) await exporter.ShutdownAsync(CancellationToken.None);
    }

    private static T Decode<T>(Received request, OtlpHttpEncoding encoding) where T : class, IMessage<T>, new() =>
        encoding == OtlpHttpEncoding.Json ? OtlpJson.Parse<T>(request.Body) : new MessageParser<T>(() => new T()).ParseFrom(request.Body);

    [Fact]
    public async Task Signal_specific_endpoints_override_the_base_url()
    {
        await using var backend = await Backend.StartAsync();
        var config = new OtlpHttpExporterConfig { TracesEndpoint = backend.Url + "/custom/traces", SendingQueue = new QueueConfig { Enabled = false } };
        var (exporter, _, _) = await StartAsync<ExportTraceServiceRequest>(config);
        await exporter.ConsumeAsync(SampleData.Traces(1), CancellationToken.None);
        Assert.Equal("/custom/traces", Assert.Single(backend.Requests).Path);
        var error = Assert.Throws<ArgumentException>(() => new OtlpHttpExporterFactory().CreateExporter<ExportLogsServiceRequest>(
            Settings.For("otlphttp/backend", ComponentKind.Exporter, new CapturingLogger()), config));
        Assert.Contains("logs_endpoint", error.Message);
        await exporter.ShutdownAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Status_503_with_Retry_After_is_retried_after_the_servers_delay()
    {
        await using var backend = await Backend.StartAsync(new Reply(503, RetryAfter: "1"), new Reply(429, RetryAfter: "1"));
        var (exporter, metrics, log) = await StartAsync<ExportTraceServiceRequest>(Config(backend.Url));

        await exporter.ConsumeAsync(SampleData.Traces(3), CancellationToken.None);

        var attempts = backend.Requests.ToArray();
        Assert.Equal(3, attempts.Length);
        // Our backoff would wait ~50 ms; the server asked for a second each time.
        Assert.True(attempts[1].At - attempts[0].At >= TimeSpan.FromMilliseconds(950), $"second attempt after {attempts[1].At - attempts[0].At}");
        Assert.True(attempts[2].At - attempts[1].At >= TimeSpan.FromMilliseconds(950), $"third attempt after {attempts[2].At - attempts[1].At}");
        Assert.Equal(3, metrics.Read("otelcol_exporter_sent_spans", Label));
        Assert.True(log.Contains(LogLevel.Information, "HTTP 503"));
        await exporter.ShutdownAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Retry_After_as_an_http_date_is_honoured()
    {
        var at = DateTimeOffset.UtcNow.AddSeconds(3).ToString("R");
        await using var backend = await Backend.StartAsync(new Reply(502, RetryAfter: at));
        var (exporter, _, _) = await StartAsync<ExportTraceServiceRequest>(Config(backend.Url));
        var clock = Stopwatch.StartNew();
        await exporter.ConsumeAsync(SampleData.Traces(1), CancellationToken.None);
        Assert.Equal(2, backend.Requests.Count);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1), $"retried after {clock.Elapsed}"); // the date has 1 s resolution
        await exporter.ShutdownAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Status_400_is_dropped_counted_not_retried_and_its_message_logged()
    {
        var status = new OtelAi.Otlp.Proto.Rpc.Status { Code = 3, Message = "span 7 has an invalid trace id" };
        await using var backend = await Backend.StartAsync(new Reply(400, "application/x-protobuf", status.ToByteArray()));
        var config = Config(backend.Url) with { SendingQueue = new QueueConfig { NumConsumers = 1 } };
        var (exporter, metrics, log) = await StartAsync<ExportTraceServiceRequest>(config);

        await exporter.ConsumeAsync(SampleData.Traces(6), CancellationToken.None);
        await exporter.ConsumeAsync(SampleData.Traces(2), CancellationToken.None);

        await Poll.UntilAsync(() => metrics.Read("otelcol_exporter_send_failed_spans", Label) == 6 && metrics.Read("otelcol_exporter_sent_spans", Label) == 2, "one dropped and one sent request");
        Assert.Equal(2, backend.Requests.Count);
        Assert.True(log.Contains(LogLevel.Error, "span 7 has an invalid trace id"));
        await exporter.ShutdownAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Json_error_bodies_and_plain_text_are_read_for_the_message()
    {
        await using var backend = await Backend.StartAsync(
            new Reply(401, "application/json", """{"code":16,"message":"token expired"}"""u8.ToArray()),
            new Reply(404, "text/plain", "no such route"u8.ToArray()));
        var (exporter, _, _) = await StartAsync<ExportTraceServiceRequest>(Config(backend.Url));
        var first = await Assert.ThrowsAsync<PermanentDataException>(() => exporter.ConsumeAsync(SampleData.Traces(1), CancellationToken.None).AsTask());
        Assert.Contains("HTTP 401", first.Message);
        Assert.Contains("token expired", first.Message);
        var second = await Assert.ThrowsAsync<PermanentDataException>(() => exporter.ConsumeAsync(SampleData.Traces(1), CancellationToken.None).AsTask());
        Assert.Contains("no such route", second.Message);
        Assert.Equal(2, backend.Requests.Count);
        await exporter.ShutdownAsync(CancellationToken.None);
    }

    [Theory]
    [InlineData(OtlpHttpEncoding.Proto)]
    [InlineData(OtlpHttpEncoding.Json)]
    public async Task Partial_success_in_the_response_is_counted_and_logged(OtlpHttpEncoding encoding)
    {
        var response = new ExportLogsServiceResponse { PartialSuccess = new ExportLogsPartialSuccess { RejectedLogRecords = 4, ErrorMessage = "4 records too large" } };
        var reply = encoding == OtlpHttpEncoding.Json
            ? new Reply(200, "application/json", Json(response))
            : new Reply(200, "application/x-protobuf", response.ToByteArray());
        await using var backend = await Backend.StartAsync(reply);
        var (exporter, metrics, log) = await StartAsync<ExportLogsServiceRequest>(Config(backend.Url) with { Encoding = encoding });

        await exporter.ConsumeAsync(SampleData.Logs(10), CancellationToken.None);

        Assert.Equal(6, metrics.Read("otelcol_exporter_sent_log_records", Label));
        Assert.Equal(4, metrics.Read("otelcol_exporter_send_failed_log_records", Label));
        Assert.True(log.Contains(LogLevel.Warning, "4 records too large"));
        Assert.Single(backend.Requests);
        await exporter.ShutdownAsync(CancellationToken.None);

        static byte[] Json(ExportLogsServiceResponse r)
        {
            var buffer = new System.Buffers.ArrayBufferWriter<byte>();
            OtlpJson.Write(r, buffer);
            return buffer.WrittenSpan.ToArray();
        }
    }

    [Fact]
    public async Task A_password_in_the_endpoint_never_reaches_the_logs()
    {
        var port = TestPorts.GetFree();
        var config = Config($"http://collector:s3cr3t-pw@127.0.0.1:{port}") with { RetryOnFailure = FastRetry with { MaxElapsedTime = TimeSpan.FromMilliseconds(300) } };
        var (exporter, _, log) = await StartAsync<ExportTraceServiceRequest>(config);
        await Assert.ThrowsAnyAsync<Exception>(async () => await exporter.ConsumeAsync(SampleData.Traces(1), CancellationToken.None));
        Assert.True(log.Contains(LogLevel.Information, "collector:xxxxx@127.0.0.1"), string.Join("\n", log.Entries.Select(e => e.Message)));
        Assert.DoesNotContain(log.Entries, e => e.Message.Contains("s3cr3t-pw", StringComparison.Ordinal));
        await exporter.ShutdownAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Backend_down_then_up_loses_nothing()
    {
        var port = TestPorts.GetFree();
        var config = new OtlpHttpExporterConfig { Client = new HttpClientSettings { Endpoint = $"http://127.0.0.1:{port}" }, RetryOnFailure = FastRetry };
        var (exporter, metrics, log) = await StartAsync<ExportTraceServiceRequest>(config);
        for (var i = 0; i < 10; i++) await exporter.ConsumeAsync(SampleData.Traces(4, seed: i), CancellationToken.None);
        await Poll.UntilAsync(() => log.Contains(LogLevel.Information, "retrying in"), "failed attempts while the backend is down");

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        await using var app = builder.Build();
        var received = new ConcurrentBag<ExportTraceServiceRequest>();
        app.MapPost("/v1/traces", async (HttpContext context) =>
        {
            using var buffer = new MemoryStream();
            await new GZipStream(context.Request.Body, CompressionMode.Decompress).CopyToAsync(buffer);
            received.Add(ExportTraceServiceRequest.Parser.ParseFrom(buffer.ToArray()));
        });
        await app.StartAsync();

        await Poll.UntilAsync(() => metrics.Read("otelcol_exporter_sent_spans", Label) == 40, "all 40 spans delivered");
        Assert.Equal(Enumerable.Range(0, 10).Select(i => SampleData.Traces(4, seed: i).ResourceSpans[0].ScopeSpans[0].Spans[0].SpanId).ToHashSet(),
            received.Select(r => r.ResourceSpans[0].ScopeSpans[0].Spans[0].SpanId).ToHashSet());
        await exporter.ShutdownAsync(CancellationToken.None);
    }

    [Fact]
    public void Config_validation_reports_bad_urls_and_compression()
    {
        var errors = Assert.Throws<ConfigException>(() => ConfigLoader.Bind<OtlpHttpExporterConfig>("endpoint: localhost:4318\nlogs_endpoint: ftp://x"))
            .Issues.Select(e => e.KeyPath).Order().ToList();
        Assert.Equal(["endpoint", "logs_endpoint"], errors);
        var compression = Assert.Throws<ConfigException>(() => ConfigLoader.Bind<OtlpHttpExporterConfig>("endpoint: http://h:4318\ncompression: zstd")).Issues.Single();
        Assert.Equal("compression", compression.KeyPath);
        Assert.Contains(new OtlpHttpExporterConfig().Validate(), e => e.Message.Contains("at least one of endpoint"));
        Assert.Equal("http://h:4318/v1/metrics", new OtlpHttpExporterConfig { Client = new HttpClientSettings { Endpoint = "http://h:4318" } }.SignalUrl(OtelAi.Otlp.Signal.Metrics));
        Assert.Equal(TimeSpan.FromSeconds(30), ConfigLoader.Bind<OtlpHttpExporterConfig>("endpoint: http://h:4318").TimeoutSettings.Timeout);
        Assert.Equal(Compression.None, ConfigLoader.Bind<OtlpHttpExporterConfig>("endpoint: http://h:4318\ncompression: \"\"").Client.Compression);
    }
}
