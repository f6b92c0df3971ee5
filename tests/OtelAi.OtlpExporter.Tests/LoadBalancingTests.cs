using System.Net;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using OtelAi.Engine;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Exporters.LoadBalancing;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Otlp.Proto.Trace.V1;
using OtelAi.TestSupport;

namespace OtelAi.OtlpExporter.Tests;

/// <summary>The load_balancing exporter: the ring, the resolvers, and a scale-out tier on loopback ports.</summary>
public sealed class LoadBalancingTests
{
    private static byte[] Key(int i) => BitConverter.GetBytes(i * 2654435761L);

    [Fact]
    public void Adding_a_backend_moves_about_a_quarter_of_the_keys_and_removing_one_moves_only_its_keys()
    {
        var three = new HashRing(["a:4317", "b:4317", "c:4317"]);
        var four = new HashRing(["a:4317", "b:4317", "c:4317", "d:4317"]);
        const int keys = 20_000;
        var moved = Enumerable.Range(0, keys).Count(i => three.Owner(Key(i)) != four.Owner(Key(i)));
        Assert.InRange(moved, keys * 15 / 100, keys * 35 / 100); // ideal: 25 %
        Assert.All(Enumerable.Range(0, keys).Where(i => three.Owner(Key(i)) != four.Owner(Key(i))), i => Assert.Equal("d:4317", four.Owner(Key(i))));

        // Each backend's share stays near a third (virtual nodes even the load out).
        var shares = Enumerable.Range(0, keys).GroupBy(i => three.Owner(Key(i))).Select(g => g.Count()).ToList();
        Assert.All(shares, share => Assert.InRange(share, keys / 3 * 80 / 100, keys / 3 * 120 / 100));
        Assert.Null(new HashRing([]).Owner(Key(1)));
    }

    [Fact]
    public async Task Dns_resolver_reports_changes_only_and_keeps_the_backends_when_a_lookup_fails()
    {
        var answers = new Queue<Func<IPAddress[]>>([
            () => [IPAddress.Parse("10.0.0.2"), IPAddress.Parse("10.0.0.1")],
            () => [IPAddress.Parse("10.0.0.1"), IPAddress.Parse("10.0.0.2")],
            () => throw new System.Net.Sockets.SocketException(11001),
            () => [IPAddress.Parse("10.0.0.1"), IPAddress.IPv6Loopback],
        ]);
        var metrics = new MetricRegistry();
        var (ok, failed) = (metrics.Counter(LoadBalancingExporterFactory.NumResolutions, ("exporter", "lb"), ("resolver", "dns"), ("success", "true")),
            metrics.Counter(LoadBalancingExporterFactory.NumResolutions, ("exporter", "lb"), ("resolver", "dns"), ("success", "false")));
        var seen = new List<string>();
        var all = new TaskCompletionSource();
        await using var resolver = new DnsResolver(new DnsResolverConfig { Hostname = "backends", Port = "4317", Interval = TimeSpan.FromMilliseconds(50) },
            NullLogger.Instance, ok, failed, (_, _) => Task.FromResult(answers.Count > 1 ? answers.Dequeue()() : answers.Peek()()));
        await resolver.StartAsync(backends =>
        {
            lock (seen) seen.Add(string.Join(",", backends));
            if (backends.Contains("[::1]:4317")) all.TrySetResult();
            return Task.CompletedTask;
        }, CancellationToken.None);
        await all.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(["10.0.0.1:4317,10.0.0.2:4317", "10.0.0.1:4317,[::1]:4317"], seen.Take(2));
        Assert.Equal(1, failed.Count);
    }

    [Fact]
    public async Task K8s_resolver_lists_ready_endpoint_slices_then_follows_the_watch_with_the_service_account_token()
    {
        var port = TestPorts.GetFree();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var requests = new List<string>();
        var watchOpen = new TaskCompletionSource<HttpListenerResponse>();
        var server = Task.Run(async () =>
        {
            while (listener.IsListening)
            {
                HttpListenerContext context;
                try { context = await listener.GetContextAsync(); }
                catch (Exception) { return; }
                var url = context.Request.RawUrl!;
                lock (requests) requests.Add($"{context.Request.Headers["Authorization"]} {url}");
                if (url.Contains("watch=true", StringComparison.Ordinal))
                {
                    context.Response.SendChunked = true;
                    watchOpen.TrySetResult(context.Response); // kept open: events are written by the test
                    continue;
                }
                var body = """
                    {"kind":"EndpointSliceList","metadata":{"resourceVersion":"41"},"items":[{"metadata":{"name":"samplers-abc"},
                      "endpoints":[{"addresses":["10.1.0.1"],"conditions":{"ready":true},"hostname":"sampler-0"},
                                   {"addresses":["10.1.0.2"],"conditions":{"ready":false}},
                                   {"addresses":["10.1.0.3"]}],
                      "ports":[{"name":"otlp","port":4317}]}]}
                    """u8.ToArray();
                context.Response.ContentType = "application/json";
                await context.Response.OutputStream.WriteAsync(body);
                context.Response.Close();
            }
        });
        var metrics = new MetricRegistry();
        var seen = new List<string>();
        var second = new TaskCompletionSource();
        await using (var resolver = new K8sResolver(new K8sResolverConfig { Service = "samplers.observability", Ports = [4317, 4318] }, NullLogger.Instance,
            metrics.Counter(LoadBalancingExporterFactory.NumResolutions, ("exporter", "lb"), ("resolver", "k8s"), ("success", "true")),
            metrics.Counter(LoadBalancingExporterFactory.NumResolutions, ("exporter", "lb"), ("resolver", "k8s"), ("success", "false")),
            new Uri($"http://127.0.0.1:{port}"), () => "sa-token", new HttpClient()))
        {
            await resolver.StartAsync(backends =>
            {
                lock (seen) seen.Add(string.Join(",", backends));
                if (seen.Count == 2) second.TrySetResult();
                return Task.CompletedTask;
            }, CancellationToken.None);
            Assert.Equal("10.1.0.1:4317,10.1.0.1:4318,10.1.0.3:4317,10.1.0.3:4318", Assert.Single(seen)); // the not-ready endpoint is left out

            var watch = await watchOpen.Task.WaitAsync(TimeSpan.FromSeconds(10));
            await watch.OutputStream.WriteAsync("""{"type":"MODIFIED","object":{"metadata":{"name":"samplers-abc"},"endpoints":[{"addresses":["10.1.0.1"]},{"addresses":["10.1.0.4"],"conditions":{"ready":true}}]}}"""u8.ToArray());
            await watch.OutputStream.WriteAsync("\n"u8.ToArray());
            await watch.OutputStream.FlushAsync();
            await second.Task.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal("10.1.0.1:4317,10.1.0.1:4318,10.1.0.4:4317,10.1.0.4:4318", seen[1]);
        }
        listener.Stop();
        lock (requests)
        {
            Assert.All(requests, r => Assert.StartsWith("Bearer sa-token /apis/discovery.k8s.io/v1/namespaces/observability/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dsamplers", r));
            Assert.Contains(requests, r => r.EndsWith("&watch=true&resourceVersion=41&allowWatchBookmarks=true", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Three_engines_behind_one_load_balancer_get_whole_traces_and_every_span_arrives()
    {
        var backends = new List<(Collector Collector, CaptureExporterFactory Capture, int Port)>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var port = TestPorts.GetFree();
                var capture = new CaptureExporterFactory();
                backends.Add((await capture.StartOtlpBackendAsync(port, "traces"), capture, port));
            }
            var frontPort = TestPorts.GetFree();
            var hostnames = string.Join(", ", backends.Select(b => $"127.0.0.1:{b.Port}"));
            await using var front = Collector.FromYaml($"""
                receivers:
                  otlp:
                    protocols:
                      http:
                        endpoint: "127.0.0.1:{frontPort}"
                exporters:
                  loadbalancing:
                    routing_key: traceID
                    protocol:
                      otlp:
                        tls:
                          insecure: true
                        timeout: 5s
                    resolver:
                      static:
                        hostnames: [{hostnames}]
                service:
                  telemetry:
                    metrics:
                      level: none
                  pipelines:
                    traces:
                      receivers: [otlp]
                      exporters: [loadbalancing]
                """, OtelAi.BuiltinComponents.CreateRegistry(), new CollectorOptions { LoggerFactory = NullLoggerFactory.Instance });
            await front.StartAsync();

            // 60 traces of 3 spans; each request carries one span of every trace, so a trace's spans arrive apart.
            using var http = new HttpClient();
            for (var part = 0; part < 3; part++)
            {
                var request = SampleData.Traces(60, seed: 100 + part);
                var spans = request.ResourceSpans[0].ScopeSpans[0].Spans;
                for (var t = 0; t < spans.Count; t++) spans[t].TraceId = ByteString.CopyFrom(BitConverter.GetBytes((long)t + 1).Concat(new byte[8]).ToArray());
                var body = new ByteArrayContent(request.ToByteArray());
                body.Headers.ContentType = new("application/x-protobuf");
                Assert.Equal(HttpStatusCode.OK, (await http.PostAsync($"http://127.0.0.1:{frontPort}/v1/traces", body)).StatusCode);
            }

            var deadline = DateTime.UtcNow.AddSeconds(30);
            List<(int Backend, Span Span)> received;
            while ((received = Received()).Count < 180 && DateTime.UtcNow < deadline) await Task.Delay(50);
            Assert.Equal(180, received.Count);
            var backendsPerTrace = received.GroupBy(r => r.Span.TraceId).Select(g => g.Select(r => r.Backend).Distinct().Count()).ToList();
            Assert.Equal(60, backendsPerTrace.Count);
            Assert.All(backendsPerTrace, count => Assert.Equal(1, count)); // every span of a trace at the same engine
            Assert.Equal(3, received.Select(r => r.Backend).Distinct().Count()); // and the traces spread over all three
        }
        finally
        {
            foreach (var (collector, _, _) in backends) await collector.DisposeAsync();
        }

        List<(int Backend, Span Span)> Received() => [.. backends.SelectMany((b, i) => b.Capture.Traces.Payloads
            .SelectMany(p => p.ResourceSpans).SelectMany(r => r.ScopeSpans).SelectMany(s => s.Spans).Select(span => (i, span)))];
    }
}
