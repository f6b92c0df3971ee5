using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Trace.V1;
using OtelAi.Receivers.Ebpf;

namespace OtelAi.Ebpf.Tests;

/// <summary>
/// Real kernel: the bundled http_requests program traces a Python HTTP/1.1 server chosen by pid and the receiver
/// turns its requests into SERVER spans.
/// </summary>
public sealed class HttpRequestsProgramTests
{
    [Fact]
    public async Task Requests_on_a_keep_alive_connection_become_server_spans_with_http_attributes()
    {
        using var server = new HttpServerProcess("--model", "llama-3-8b");
        await using var receiver = new ReceiverUnderTest(new EbpfReceiverConfig
        {
            Program = EbpfReceiverConfig.HttpRequestsProgram,
            Pids = [server.Pid],
            RouteTemplates = ["/v1/models/{model}/infer"],
        }, tracesOnly: true);
        await receiver.StartAsync();

        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1 });
        var sent = new List<(string Method, string Path, int Status)>();
        async Task Send(HttpMethod method, string path, int expectedStatus, HttpContent? body = null)
        {
            using var response = await client.SendAsync(new HttpRequestMessage(method, server.Url(path)) { Content = body });
            Assert.Equal(expectedStatus, (int)response.StatusCode);
            await response.Content.ReadAsStringAsync();
            sent.Add((method.Method, path.Split('?')[0], expectedStatus));
        }
        await Send(HttpMethod.Get, "/health", 200);
        await Send(HttpMethod.Get, "/status/404", 404);
        await Send(HttpMethod.Post, "/v1/models/llama/infer?stream=false", 200, new StringContent(new string('x', 3000)));
        await Send(HttpMethod.Get, "/status/503", 503);
        await Send(HttpMethod.Get, "/slow/300", 200);

        await ReceiverUnderTest.WaitUntil(() => receiver.Spans().Count >= sent.Count, $"{sent.Count} spans");
        var spans = receiver.Spans();
        Assert.Equal(sent.Count, spans.Count);
        foreach (var (method, path, status) in sent)
        {
            var (resource, span) = Assert.Single(spans, s => s.Span.Attributes.Get("url.path")?.StringValue == path);
            Assert.Equal(Span.Types.SpanKind.Server, span.Kind);
            Assert.Equal(method, span.Attributes.Get("http.request.method")!.StringValue);
            Assert.Equal(status, span.Attributes.Get("http.response.status_code")!.IntValue);
            Assert.Equal(status >= 500 ? Status.Types.StatusCode.Error : Status.Types.StatusCode.Unset, span.Status?.Code ?? Status.Types.StatusCode.Unset);
            Assert.Equal("127.0.0.1", span.Attributes.Get("network.peer.address")?.StringValue);
            Assert.Equal(16, span.TraceId.Length);
            Assert.Equal(8, span.SpanId.Length);
            Assert.Equal(server.Pid, resource.Attributes.Get("process.pid")!.IntValue);
            Assert.Equal("python-model-server", resource.Attributes.Get("service.name")!.StringValue);
            Assert.Equal("llama-3-8b", span.Attributes.Get("gen_ai.request.model")!.StringValue);
            var now = (ulong)(DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;
            Assert.InRange(span.StartTimeUnixNano, now - 120_000_000_000UL, now);
            Assert.True(span.EndTimeUnixNano >= span.StartTimeUnixNano);
        }
        var slow = spans.Single(s => s.Span.Attributes.Get("url.path")!.StringValue == "/slow/300").Span;
        Assert.InRange((slow.EndTimeUnixNano - slow.StartTimeUnixNano) / 1e6, 290, 10_000);
        Assert.True(slow.Attributes.Get("otelai.http.time_to_first_byte_ns")!.IntValue >= 290_000_000);
        var infer = spans.Single(s => s.Span.Attributes.Get("url.path")!.StringValue == "/v1/models/llama/infer").Span;
        Assert.Equal("POST /v1/models/{model}/infer", infer.Name);
        Assert.Equal("/v1/models/{model}/infer", infer.Attributes.Get("http.route")!.StringValue);
        Assert.True(infer.Attributes.Get("http.request.size")!.IntValue >= 3000);
        var fast = spans.Single(s => s.Span.Attributes.Get("url.path")!.StringValue == "/health").Span;
        Assert.True(fast.EndTimeUnixNano - fast.StartTimeUnixNano < slow.EndTimeUnixNano - slow.StartTimeUnixNano);
        Assert.Equal("GET", fast.Name);
    }
}
