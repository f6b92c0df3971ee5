using OtelAi.Otlp;
using System.Net;
using Google.Protobuf;
using OtelAi.Engine.Consumers;
using OtelAi.Otlp.Grpc;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.TestSupport;
using static OtelAi.OtlpReceiver.Tests.WireClients;

namespace OtelAi.OtlpReceiver.Tests;

/// <summary>The OTLP/gRPC side on the wire: every status code path, checked with raw HTTP/2 requests.</summary>
public sealed class GrpcReceiverTests
{
    [Fact]
    public async Task AllSignals_RoundTripExactly_WithStatusInTrailers()
    {
        await using var harness = await ReceiverHarness.StartAsync();
        using var client = CreateH2c();
        var traces = SampleData.Traces(25);
        var metrics = SampleData.Metrics(12);
        var logs = SampleData.Logs(7);

        var reply = await CallGrpcAsync(client, harness.GrpcUrl, TracesMethod, Frame(traces));
        Assert.Equal(HttpStatusCode.OK, reply.HttpStatus);
        Assert.False(reply.TrailersOnly);
        Assert.Equal(GrpcStatusCode.OK, reply.Status.Code);
        Assert.Null(ParseReply(reply, ExportTraceServiceResponse.Parser).PartialSuccess);
        Assert.Equal("application/grpc", reply.Response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(GrpcStatusCode.OK, (await CallGrpcAsync(client, harness.GrpcUrl, MetricsMethod, Frame(metrics))).Status.Code);
        Assert.Equal(GrpcStatusCode.OK, (await CallGrpcAsync(client, harness.GrpcUrl, LogsMethod, Frame(logs), contentType: "application/grpc+proto")).Status.Code);

        Assert.Equal(traces, Assert.Single(harness.Traces.Payloads));
        Assert.Equal(metrics, Assert.Single(harness.Metrics.Payloads));
        Assert.Equal(logs, Assert.Single(harness.Logs.Payloads));
        Assert.Equal(25, harness.Counter("otelcol_receiver_accepted_spans", "grpc"));
        Assert.Equal(12, harness.Counter("otelcol_receiver_accepted_metric_points", "grpc"));
        Assert.Equal(7, harness.Counter("otelcol_receiver_accepted_log_records", "grpc"));
        Assert.Equal("127.0.0.1", harness.Traces.Clients[0].Address);
        Assert.Empty(harness.Traces.Clients[0].Metadata);
    }

    [Fact]
    public async Task GzipMessages_AreAccepted_AndCorruptGzipIsInvalidArgument()
    {
        await using var harness = await ReceiverHarness.StartAsync();
        using var client = CreateH2c();
        var traces = SampleData.Traces(40);
        var gzip = new Dictionary<string, string> { ["grpc-encoding"] = "gzip" };

        var compressed = Frame(Compress(traces.ToByteArray(), ContentCoding.Gzip), compressed: true);
        Assert.Equal(GrpcStatusCode.OK, (await CallGrpcAsync(client, harness.GrpcUrl, TracesMethod, compressed, headers: gzip)).Status.Code);
        Assert.Equal(traces, Assert.Single(harness.Traces.Payloads));

        var corrupt = await CallGrpcAsync(client, harness.GrpcUrl, TracesMethod, Frame("definitely not gzip"u8.ToArray(), compressed: true), headers: gzip);
        Assert.True(corrupt.TrailersOnly);
        Assert.Equal(GrpcStatusCode.InvalidArgument, corrupt.Status.Code);
        Assert.Contains("gzip", corrupt.Status.Message);

        var flaggedWithoutEncoding = await CallGrpcAsync(client, harness.GrpcUrl, TracesMethod, compressed);
        Assert.Equal(GrpcStatusCode.Internal, flaggedWithoutEncoding.Status.Code);

        var zstd = await CallGrpcAsync(client, harness.GrpcUrl, TracesMethod, Frame(traces), headers: new Dictionary<string, string> { ["grpc-encoding"] = "zstd" });
        Assert.Equal(GrpcStatusCode.Unimplemented, zstd.Status.Code);
        Assert.Contains("zstd", zstd.Status.Message);
        Assert.Equal("gzip,identity", zstd.Response.Headers.GetValues("grpc-accept-encoding").Single());
        Assert.Single(harness.Traces.Payloads);
    }

    /// <summary>
    /// Lengths near 2^31, at the top and nested. The first is a fuzzed request (an attribute value claiming 2^31 − 21
    /// bytes in a request of three spans) on which Google.Protobuf's ParseFrom alone throws IndexOutOfRangeException
    /// instead of InvalidProtocolBufferException (an upstream bug); the receivers answer it 400 either way.
    /// </summary>
    internal static readonly byte[][] LyingLengths =
    [
        Convert.FromHexString("0AA9010A170A150A0C736572766963652E6E616D6512EBFFFFFF070A03737663128D01122D0A1000000000000000000000000000000000120800000000000000002A057370616E304A080A016B12030A0176122D0A1000000000000000000000000000000000120800000000000000002A057370616E314A080A016B12030A0176122D0A1000000000000000000000000000000000120800000000000000002A057370616E324A080A016B12030A0176"),
        [0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x07, 1, 2, 3],
        [0x0A, 0x08, 0x12, 0xFF, 0xFF, 0xFF, 0xFF, 0x07, 1, 2],
        [0x0A, 0x0A, 0x12, 0x08, 0x12, 0xFF, 0xFF, 0xFF, 0xFF, 0x07, 1, 2],
    ];

    [Fact]
    public async Task MalformedProtobuf_IsInvalidArgument_AndTheServerKeepsServing()
    {
        await using var harness = await ReceiverHarness.StartAsync();
        using var client = CreateH2c();
        // Field 1 (resource_spans), length-delimited, claims 100 bytes but only 3 follow.
        var reply = await CallGrpcAsync(client, harness.GrpcUrl, TracesMethod, Frame([0x0A, 100, 1, 2, 3], compressed: false));
        Assert.Equal(HttpStatusCode.OK, reply.HttpStatus);
        Assert.True(reply.TrailersOnly);
        Assert.Equal(GrpcStatusCode.InvalidArgument, reply.Status.Code);
        Assert.Contains("ExportTraceServiceRequest", reply.Status.Message);
        foreach (var lying in LyingLengths)
            Assert.Equal(GrpcStatusCode.InvalidArgument, (await CallGrpcAsync(client, harness.GrpcUrl, TracesMethod, Frame(lying, compressed: false))).Status.Code);
        Assert.Empty(harness.Traces.Payloads);

        var truncatedFrame = Frame(SampleData.Traces(3))[..^4];
        Assert.Equal(GrpcStatusCode.Internal, (await CallGrpcAsync(client, harness.GrpcUrl, TracesMethod, truncatedFrame)).Status.Code);
        Assert.Equal(GrpcStatusCode.Internal, (await CallGrpcAsync(client, harness.GrpcUrl, TracesMethod, [])).Status.Code);

        Assert.Equal(GrpcStatusCode.OK, (await CallGrpcAsync(client, harness.GrpcUrl, TracesMethod, Frame(SampleData.Traces(2)))).Status.Code);
        Assert.Equal(2, harness.Traces.Items);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_client_that_resets_its_stream_or_drops_the_connection_mid_message_is_no_engine_error(bool dropConnection)
    {
        await using var harness = await ReceiverHarness.StartAsync();
        var broken = CreateH2c();
        var frame = Frame(SampleData.Traces(200));
        using var reset = new CancellationTokenSource();
        var halfSent = new TaskCompletionSource();
        using var request = new HttpRequestMessage(HttpMethod.Post, harness.GrpcUrl + TracesMethod)
        {
            Content = new HalfThenWait(frame, halfSent, reset.Token),
        };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        var call = broken.SendAsync(request, reset.Token);
        await halfSent.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await Task.Delay(100);
        // Disposing the client closes the connection under the call; cancelling the call resets its HTTP/2 stream.
        if (dropConnection)
        {
            broken.Dispose();
            await Task.Delay(200);
        }
        await reset.CancelAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => call);
        broken.Dispose();
        await Task.Delay(200);

        // The engine keeps serving, took nothing from the broken call, and logged no error for it.
        using var client = CreateH2c();
        Assert.Equal(GrpcStatusCode.OK, (await CallGrpcAsync(client, harness.GrpcUrl, TracesMethod, Frame(SampleData.Traces(2)))).Status.Code);
        Assert.Equal(2, harness.Traces.Items);
        Assert.Empty(harness.Log.Problems);
    }

    /// <summary>Request content that sends the first half of its bytes and then waits until the call is cancelled.</summary>
    internal sealed class HalfThenWait(byte[] body, TaskCompletionSource halfSent, CancellationToken reset) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            await stream.WriteAsync(body.AsMemory(0, body.Length / 2), reset);
            await stream.FlushAsync(reset);
            halfSent.TrySetResult();
            await Task.Delay(Timeout.Infinite, reset);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = body.Length;
            return true;
        }
    }

    [Fact]
    public async Task A_body_that_stops_sending_is_ended_after_the_stall_timeout_on_both_transports()
    {
        await using var harness = await ReceiverHarness.StartAsync();
        using var stop = new CancellationTokenSource();
        var frame = Frame(SampleData.Traces(2_000));

        // gRPC: half a message, then nothing.
        using var h2c = CreateH2c();
        using var grpcRequest = new HttpRequestMessage(HttpMethod.Post, harness.GrpcUrl + TracesMethod)
        {
            Content = new HalfThenWait(frame, new TaskCompletionSource(), stop.Token), Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        grpcRequest.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/grpc");
        grpcRequest.Headers.TryAddWithoutValidation("te", "trailers");
        var grpcCall = h2c.SendAsync(grpcRequest, HttpCompletionOption.ResponseHeadersRead);

        // HTTP/1.1 on a raw socket: headers announcing the body, half of it, then nothing.
        var body = SampleData.Traces(2_000).ToByteArray();
        using var socket = new System.Net.Sockets.TcpClient();
        await socket.ConnectAsync(IPAddress.Loopback, new Uri(harness.HttpUrl).Port);
        var stream = socket.GetStream();
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(
            $"POST /v1/traces HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-protobuf\r\nContent-Length: {body.Length}\r\n\r\n"));
        await stream.WriteAsync(body.AsMemory(0, body.Length / 2));
        var httpAnswer = Task.Run(async () =>
        {
            var buffer = new byte[256];
            var read = await stream.ReadAsync(buffer);
            return System.Text.Encoding.ASCII.GetString(buffer, 0, read);
        });

        var started = System.Diagnostics.Stopwatch.StartNew();
        using var grpcResponse = await grpcCall.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal("4", grpcResponse.Headers.GetValues("grpc-status").Single()); // DEADLINE_EXCEEDED, trailers-only
        Assert.StartsWith("HTTP/1.1 408", await httpAnswer.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.True(started.Elapsed >= TimeSpan.FromSeconds(20), $"ended after {started.Elapsed}: before the stall timeout");
        await stop.CancelAsync();
        Assert.Empty(harness.Traces.Payloads);
    }

    [Fact]
    public async Task Unfinished_bodies_share_a_budget_past_which_requests_are_refused_as_retryable_while_finished_ones_pass()
    {
        await using var harness = await ReceiverHarness.StartAsync(
            grpc: c => c with { MaxUnfinishedRequestsMib = 2, MaxRecvMsgSizeMib = 2 },
            http: c => c with { Server = c.Server with { MaxUnfinishedRequestsMib = 2, MaxRequestBodySize = 2 << 20 } });
        var big = Frame(SampleData.Traces(6_000)); // about 1.6 MB: two halves fit the 2 MiB budget, three do not
        Assert.InRange(big.Length / 2, 700_000, 1 << 20);

        // gRPC: three clients each send half a large message and wait; together they pass the budget, so one is refused.
        using var stop = new CancellationTokenSource();
        using var h2c = CreateH2c();
        Task<HttpResponseMessage> HalfCall()
        {
            var request = new HttpRequestMessage(HttpMethod.Post, harness.GrpcUrl + TracesMethod)
            {
                Content = new HalfThenWait(big, new TaskCompletionSource(), stop.Token), Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            };
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/grpc");
            request.Headers.TryAddWithoutValidation("te", "trailers");
            return h2c.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        }
        var halves = new[] { HalfCall(), HalfCall(), HalfCall() };
        var refused = await (await Task.WhenAny(halves)).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal("14", refused.Headers.GetValues("grpc-status").Single()); // UNAVAILABLE: retryable
        Assert.Contains("max_unfinished_requests_mib", Uri.UnescapeDataString(refused.Headers.GetValues("grpc-message").Single()));
        Assert.Equal(2, halves.Count(t => !t.IsCompleted)); // the others still wait for their clients

        // A request that arrives whole is not held waiting: it passes while the budget is spent.
        var small = SampleData.Traces(3);
        Assert.Equal(GrpcStatusCode.OK, (await CallGrpcAsync(h2c, harness.GrpcUrl, TracesMethod, Frame(small))).Status.Code);

        // HTTP: the same on raw sockets (one is answered 503 with Retry-After, the others wait).
        var sockets = new List<System.Net.Sockets.TcpClient>();
        var answers = new List<Task<string>>();
        for (var i = 0; i < 3; i++)
        {
            var socket = new System.Net.Sockets.TcpClient();
            sockets.Add(socket);
            await socket.ConnectAsync(IPAddress.Loopback, new Uri(harness.HttpUrl).Port);
            var stream = socket.GetStream();
            await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(
                $"POST /v1/traces HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-protobuf\r\nContent-Length: {big.Length - 5}\r\n\r\n"));
            await stream.WriteAsync(big.AsMemory(5, big.Length / 2));
            answers.Add(Task.Run(async () =>
            {
                var buffer = new byte[4096];
                var read = await stream.ReadAsync(buffer);
                return System.Text.Encoding.ASCII.GetString(buffer, 0, read);
            }));
        }
        var answer = await (await Task.WhenAny(answers)).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.StartsWith("HTTP/1.1 503", answer);
        Assert.Contains("Retry-After: 1", answer);
        Assert.Equal(2, answers.Count(t => !t.IsCompleted));

        // The waiting clients leave: what they held is given back, and a large request that arrives in pieces passes.
        await stop.CancelAsync();
        foreach (var socket in sockets) socket.Dispose();
        await Task.WhenAll(halves).ContinueWith(_ => { }, TaskScheduler.Default); // the waiting one ends with the reset
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((await CallGrpcAsync(h2c, harness.GrpcUrl, TracesMethod, big)).Status.Code != GrpcStatusCode.OK)
        {
            Assert.True(DateTime.UtcNow < deadline, "the budget was not given back");
            await Task.Delay(50);
        }
        using var http = new HttpClient();
        while (true)
        {
            var content = new ByteArrayContent(big, 5, big.Length - 5);
            content.Headers.ContentType = new("application/x-protobuf");
            if ((await http.PostAsync(harness.HttpUrl + "/v1/traces", content)).StatusCode == HttpStatusCode.OK) break;
            Assert.True(DateTime.UtcNow < deadline, "the HTTP budget was not given back");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task OversizeMessage_IsResourceExhausted_AndLargeMessagesUnderTheLimitPass()
    {
        await using var harness = await ReceiverHarness.StartAsync(grpc: c => c with { MaxRecvMsgSizeMib = 2 });
        using var client = CreateH2c();
        var big = SampleData.Traces(12_000); // ~3.3 MB
        Assert.True(big.CalculateSize() > 2 << 20);
        var reply = await CallGrpcAsync(client, harness.GrpcUrl, TracesMethod, Frame(big));
        Assert.Equal(GrpcStatusCode.ResourceExhausted, reply.Status.Code);
        Assert.Contains($"vs. {2 << 20}", reply.Status.Message);
        Assert.Empty(harness.Traces.Payloads);

        // Under the limit, larger than HTTP/2's default stream window: flow control must not stall it.
        var large = SampleData.Traces(6_000);
        Assert.InRange(large.CalculateSize(), 1 << 20, 2 << 20);
        Assert.Equal(GrpcStatusCode.OK, (await CallGrpcAsync(client, harness.GrpcUrl, TracesMethod, Frame(large))).Status.Code);
        Assert.Equal(6_000, harness.Traces.Items);

        // A gzip bomb: small on the wire, over the limit once inflated.
        var bomb = Frame(Compress(new byte[5 << 20], ContentCoding.Gzip), compressed: true);
        var bombReply = await CallGrpcAsync(client, harness.GrpcUrl, TracesMethod, bomb, headers: new Dictionary<string, string> { ["grpc-encoding"] = "gzip" });
        Assert.Equal(GrpcStatusCode.ResourceExhausted, bombReply.Status.Code);
    }

    [Fact]
    public async Task NonGrpcRequests_GetGrpcServerAnswers()
    {
        await using var harness = await ReceiverHarness.StartAsync(logs: false);
        using var client = CreateH2c();
        var body = Frame(SampleData.Traces(1));

        var unknownMethod = await CallGrpcAsync(client, harness.GrpcUrl, "/opentelemetry.proto.collector.trace.v1.TraceService/Push", body);
        Assert.Equal(HttpStatusCode.OK, unknownMethod.HttpStatus);
        Assert.True(unknownMethod.TrailersOnly);
        Assert.Equal(GrpcStatusCode.Unimplemented, unknownMethod.Status.Code);
        Assert.Contains("Push", unknownMethod.Status.Message);

        var unknownService = await CallGrpcAsync(client, harness.GrpcUrl, "/grpc.health.v1.Health/Check", body);
        Assert.Equal(GrpcStatusCode.Unimplemented, unknownService.Status.Code);

        // No logs pipeline: the logs service is not offered.
        Assert.Equal(GrpcStatusCode.Unimplemented, (await CallGrpcAsync(client, harness.GrpcUrl, LogsMethod, Frame(SampleData.Logs(1)))).Status.Code);

        var get = await CallGrpcAsync(client, harness.GrpcUrl, TracesMethod, body, method: "GET");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, get.HttpStatus);
        Assert.Equal(GrpcStatusCode.Internal, get.Status.Code);

        var json = await CallGrpcAsync(client, harness.GrpcUrl, TracesMethod, body, contentType: "application/json");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, json.HttpStatus);
        Assert.Equal(GrpcStatusCode.Internal, json.Status.Code);

        Assert.Equal(GrpcStatusCode.OK, (await CallGrpcAsync(client, harness.GrpcUrl, TracesMethod, body)).Status.Code);
    }

    [Fact]
    public async Task PipelineRefusals_MapToOtlpStatuses_WithRetryInfo()
    {
        await using var harness = await ReceiverHarness.StartAsync();
        using var client = CreateH2c();
        var body = Frame(SampleData.Traces(10));

        harness.Traces.Fail = _ => new RetryableDataException("sending queue is full", TimeSpan.FromSeconds(3));
        var unavailable = await CallGrpcAsync(client, harness.GrpcUrl, TracesMethod, body);
        Assert.True(unavailable.TrailersOnly);
        Assert.Equal(GrpcStatusCode.Unavailable, unavailable.Status.Code);
        Assert.Equal("sending queue is full", unavailable.Status.Message);
        Assert.Equal(TimeSpan.FromSeconds(3), unavailable.Status.RetryDelay);
        Assert.True(unavailable.Status.IsRetryable);

        harness.Traces.Fail = _ => new RetryableDataException("memory limit 80% reached", TimeSpan.FromMilliseconds(1500), resourceExhausted: true);
        var exhausted = await CallGrpcAsync(client, harness.GrpcUrl, TracesMethod, body);
        Assert.Equal(GrpcStatusCode.ResourceExhausted, exhausted.Status.Code);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), exhausted.Status.RetryDelay);
        Assert.Equal("memory limit 80%25 reached", exhausted.Response.Headers.GetValues("grpc-message").Single());

        harness.Traces.Fail = _ => new PermanentDataException("attribute limit exceeded");
        var permanent = await CallGrpcAsync(client, harness.GrpcUrl, TracesMethod, body);
        Assert.Equal(GrpcStatusCode.InvalidArgument, permanent.Status.Code);
        Assert.Null(permanent.Status.RetryDelay);
        Assert.False(permanent.Response.Headers.Contains("grpc-status-details-bin"));

        harness.Traces.Fail = null;
        Assert.Equal(GrpcStatusCode.OK, (await CallGrpcAsync(client, harness.GrpcUrl, TracesMethod, body)).Status.Code);
        Assert.Equal(30, harness.Counter("otelcol_receiver_refused_spans", "grpc"));
        Assert.Equal(10, harness.Counter("otelcol_receiver_accepted_spans", "grpc"));
    }

    [Fact]
    public async Task InvalidIds_GivePartialSuccess_AndTheValidRestIsDelivered()
    {
        await using var harness = await ReceiverHarness.StartAsync();
        using var client = CreateH2c();
        var traces = SampleData.Traces(6);
        var spans = traces.ResourceSpans[0].ScopeSpans[0].Spans;
        spans[1].TraceId = ByteString.CopyFrom(new byte[8]);
        spans[4].SpanId = ByteString.CopyFrom(new byte[8]);
        var validIds = new[] { 0, 2, 3, 5 }.Select(i => spans[i].SpanId).ToList();

        var reply = await CallGrpcAsync(client, harness.GrpcUrl, TracesMethod, Frame(traces));
        Assert.Equal(GrpcStatusCode.OK, reply.Status.Code);
        var partial = ParseReply(reply, ExportTraceServiceResponse.Parser).PartialSuccess;
        Assert.Equal(2, partial.RejectedSpans);
        Assert.Contains("trace_id must be 16 bytes", partial.ErrorMessage);
        Assert.Equal(validIds, harness.Traces.Payloads.Single().ResourceSpans[0].ScopeSpans[0].Spans.Select(s => s.SpanId));
        Assert.Equal(4, harness.Counter("otelcol_receiver_accepted_spans", "grpc"));
        Assert.Equal(2, harness.Counter("otelcol_receiver_refused_spans", "grpc"));

        var logs = SampleData.Logs(3);
        logs.ResourceLogs[0].ScopeLogs[0].LogRecords[0].TraceId = ByteString.CopyFrom(1, 2, 3);
        var logReply = await CallGrpcAsync(client, harness.GrpcUrl, LogsMethod, Frame(logs));
        Assert.Equal(1, ParseReply(logReply, ExportLogsServiceResponse.Parser).PartialSuccess.RejectedLogRecords);
        Assert.Equal(2, harness.Logs.Items);

        // Empty requests succeed without reaching the pipeline.
        var empty = await CallGrpcAsync(client, harness.GrpcUrl, MetricsMethod, Frame(new ExportMetricsServiceRequest()));
        Assert.Equal(GrpcStatusCode.OK, empty.Status.Code);
        Assert.Empty(harness.Metrics.Payloads);
    }

    [Fact]
    public async Task GrpcTimeout_BecomesTheConsumersDeadline()
    {
        await using var harness = await ReceiverHarness.StartAsync();
        using var client = CreateH2c();
        harness.Traces.Delay = TimeSpan.FromSeconds(30);
        var reply = await CallGrpcAsync(client, harness.GrpcUrl, TracesMethod, Frame(SampleData.Traces(5)),
            headers: new Dictionary<string, string> { ["grpc-timeout"] = "300m" });
        Assert.Equal(GrpcStatusCode.DeadlineExceeded, reply.Status.Code);
        Assert.Equal(5, harness.Counter("otelcol_receiver_refused_spans", "grpc"));
    }

    [Fact]
    public async Task Request_durations_are_histograms_by_method_route_and_status_as_otelcol_exposes_them()
    {
        await using var harness = await ReceiverHarness.StartAsync();
        using var h2c = CreateH2c();
        Assert.Equal(GrpcStatusCode.OK, (await CallGrpcAsync(h2c, harness.GrpcUrl, TracesMethod, Frame(SampleData.Traces(2)))).Status.Code);
        Assert.Equal(GrpcStatusCode.InvalidArgument, (await CallGrpcAsync(h2c, harness.GrpcUrl, TracesMethod, Frame([0x0A, 100, 1], compressed: false))).Status.Code);
        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(http, harness.HttpUrl + "/v1/logs", SampleData.Logs(1).ToByteArray(), "application/x-protobuf")).StatusCode);

        var text = new StringWriter();
        harness.Registry.WritePrometheusText(text);
        var exposition = text.ToString();
        Assert.Contains("# TYPE rpc_server_duration_milliseconds histogram", exposition);
        const string Ok = "receiver=\"otlp\",rpc_grpc_status_code=\"0\",rpc_method=\"/opentelemetry.proto.collector.trace.v1.TraceService/Export\"";
        Assert.Contains($"rpc_server_duration_milliseconds_bucket{{{Ok},le=\"+Inf\"}} 1\n", exposition);
        Assert.Contains($"rpc_server_duration_milliseconds_count{{{Ok}}} 1\n", exposition);
        Assert.Contains("rpc_grpc_status_code=\"3\"", exposition);
        Assert.Contains("http_server_duration_milliseconds_count{http_route=\"/v1/logs\",http_status_code=\"200\",receiver=\"otlp\"} 1\n", exposition);
    }

    [Fact]
    public async Task A_message_that_decodes_to_too_many_objects_is_resource_exhausted()
    {
        await using var harness = await ReceiverHarness.StartAsync();
        using var client = CreateH2c();
        var bomb = Compress(HttpReceiverTests.EmptySpans(1_900_000), ContentCoding.Gzip); // 3.8 MB decompressed, within the 4 MiB limit
        var reply = await CallGrpcAsync(client, harness.GrpcUrl, TracesMethod, Frame(bomb, compressed: true), headers: new Dictionary<string, string> { ["grpc-encoding"] = "gzip" });
        Assert.Equal(GrpcStatusCode.ResourceExhausted, reply.Status.Code);
        Assert.Contains("decodes to more than", reply.Status.Message);
        Assert.Empty(harness.Traces.Payloads);
    }

    [Fact]
    public async Task Only_a_single_protobuf_message_with_a_wellformed_timeout_is_accepted()
    {
        await using var harness = await ReceiverHarness.StartAsync();
        using var client = CreateH2c();
        var twoMessages = Frame(SampleData.Traces(2)).Concat(Frame(SampleData.Traces(3))).ToArray();
        var reply = await CallGrpcAsync(client, harness.GrpcUrl, TracesMethod, twoMessages);
        Assert.Equal(GrpcStatusCode.Internal, reply.Status.Code);
        Assert.Contains("one request message", reply.Status.Message);

        var json = await CallGrpcAsync(client, harness.GrpcUrl, TracesMethod, Frame(SampleData.Traces(1)), contentType: "application/grpc+json");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, json.HttpStatus);

        var malformed = await CallGrpcAsync(client, harness.GrpcUrl, TracesMethod, Frame(SampleData.Traces(1)), headers: new Dictionary<string, string> { ["grpc-timeout"] = "5 seconds" });
        Assert.Equal(GrpcStatusCode.Internal, malformed.Status.Code);
        Assert.Contains("malformed grpc-timeout", malformed.Status.Message);
        Assert.Empty(harness.Traces.Payloads);

        Assert.Equal(GrpcStatusCode.OK, (await CallGrpcAsync(client, harness.GrpcUrl, TracesMethod, Frame(SampleData.Traces(1)), contentType: "application/grpc+proto")).Status.Code);
        Assert.Equal(1, harness.Traces.Items);
    }

    [Theory]
    [InlineData("99999999H")] // 11,400 years: the longest the header can say
    [InlineData("9000000S")] // 104 days (grpcio's one-year timeout is sent in hours or seconds like this)
    public async Task A_deadline_longer_than_a_timer_holds_is_no_deadline(string timeout)
    {
        await using var harness = await ReceiverHarness.StartAsync();
        using var client = CreateH2c();
        var reply = await CallGrpcAsync(client, harness.GrpcUrl, TracesMethod, Frame(SampleData.Traces(5)),
            headers: new Dictionary<string, string> { ["grpc-timeout"] = timeout });
        Assert.Equal(GrpcStatusCode.OK, reply.Status.Code);
        Assert.Equal(5, harness.Traces.Items);
    }

    [Fact]
    public async Task IncludeMetadata_PassesHeadersToTheClientContext()
    {
        await using var harness = await ReceiverHarness.StartAsync(grpc: c => c with { IncludeMetadata = true });
        using var client = CreateH2c();
        var reply = await CallGrpcAsync(client, harness.GrpcUrl, TracesMethod, Frame(SampleData.Traces(1)),
            headers: new Dictionary<string, string> { ["X-Scope-OrgID"] = "tenant-a", ["x-model-id"] = "llama-3-70b" });
        Assert.Equal(GrpcStatusCode.OK, reply.Status.Code);
        var client0 = harness.Traces.Clients.Single();
        Assert.Equal("tenant-a", client0.GetFirst("x-scope-orgid"));
        Assert.Equal("llama-3-70b", client0.GetFirst("X-Model-Id"));
        Assert.Equal("127.0.0.1", client0.Address);
        Assert.All(client0.Metadata.Keys, k => Assert.Equal(k.ToLowerInvariant(), k));
    }

    [Fact]
    public async Task ConcurrentClients_AreServedIndependently()
    {
        await using var harness = await ReceiverHarness.StartAsync();
        using var client = CreateH2c();
        var calls = Enumerable.Range(0, 40).Select(async i =>
        {
            var body = i % 4 == 0 ? Frame([0xFF, 0xFF, 0xFF], compressed: false) : Frame(SampleData.Traces(5, seed: i + 10));
            return (i, await CallGrpcAsync(client, harness.GrpcUrl, TracesMethod, body));
        });
        foreach (var (i, reply) in await Task.WhenAll(calls))
            Assert.Equal(i % 4 == 0 ? GrpcStatusCode.InvalidArgument : GrpcStatusCode.OK, reply.Status.Code);
        Assert.Equal(30 * 5, harness.Traces.Items);
    }
}
