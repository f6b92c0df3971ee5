using OtelAi.Otlp;
using System.Net;
using System.Text;
using Google.Protobuf;
using OtelAi.Engine.Consumers;
using OtelAi.Otlp.Grpc;
using OtelAi.Otlp.Json;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Engine.Settings;
using OtelAi.Receivers.Otlp;
using OtelAi.TestSupport;
using static OtelAi.OtlpReceiver.Tests.WireClients;
using RpcStatus = OtelAi.Otlp.Proto.Rpc.Status;

namespace OtelAi.OtlpReceiver.Tests;

/// <summary>The OTLP/HTTP side on the wire: encodings, compressions, every error answer.</summary>
public sealed class HttpReceiverTests
{
    private const string Proto = "application/x-protobuf";
    private const string Json = "application/json";

    [Fact]
    public async Task A_url_path_written_without_its_slash_is_served_with_one_as_otelcol_does()
    {
        await using var harness = await ReceiverHarness.StartAsync(http: c => c with { TracesUrlPath = "ingest/traces" });
        using var client = new HttpClient();
        var body = new ByteArrayContent(SampleData.Traces(2).ToByteArray());
        body.Headers.ContentType = new(Proto);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync(harness.HttpUrl + "/ingest/traces", body)).StatusCode);
        Assert.Single(harness.Traces.Payloads);
    }

    [Fact]
    public async Task Connections_past_max_connections_are_closed_and_the_first_ones_keep_working()
    {
        await using var harness = await ReceiverHarness.StartAsync(http: c => c with { Server = c.Server with { MaxConnections = 2 } });
        var port = new Uri(harness.HttpUrl).Port;
        var held = new List<System.Net.Sockets.TcpClient>();
        for (var i = 0; i < 2; i++)
        {
            var socket = new System.Net.Sockets.TcpClient();
            await socket.ConnectAsync(IPAddress.Loopback, port);
            held.Add(socket);
        }
        using var extra = new System.Net.Sockets.TcpClient();
        await extra.ConnectAsync(IPAddress.Loopback, port);
        var stream = extra.GetStream();
        await stream.WriteAsync("GET /v1/traces HTTP/1.1\r\nHost: localhost\r\n\r\n"u8.ToArray());
        var buffer = new byte[256];
        int read;
        try
        {
            read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(20));
        }
        catch (IOException)
        {
            read = 0; // reset rather than closed: refused all the same
        }
        Assert.Equal(0, read); // the third connection is closed without an answer

        // The two admitted connections still serve requests.
        var body = SampleData.Traces(2).ToByteArray();
        var first = held[0].GetStream();
        await first.WriteAsync(System.Text.Encoding.ASCII.GetBytes(
            $"POST /v1/traces HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-protobuf\r\nContent-Length: {body.Length}\r\n\r\n"));
        await first.WriteAsync(body);
        read = await first.ReadAsync(buffer);
        Assert.StartsWith("HTTP/1.1 200", System.Text.Encoding.ASCII.GetString(buffer, 0, read));
        foreach (var socket in held) socket.Dispose();
    }

    [Fact]
    public async Task ProtobufAndJson_RoundTrip_AndAnswerInTheRequestEncoding()
    {
        await using var harness = await ReceiverHarness.StartAsync();
        using var client = new HttpClient();
        var traces = SampleData.Traces(9);
        var metrics = SampleData.Metrics(6);
        var logs = SampleData.Logs(4);

        var protoReply = await PostAsync(client, harness.HttpUrl + "/v1/traces", traces.ToByteArray(), Proto);
        Assert.Equal(HttpStatusCode.OK, protoReply.StatusCode);
        Assert.Equal(Proto, protoReply.Content.Headers.ContentType!.MediaType);
        Assert.Empty(await protoReply.Content.ReadAsByteArrayAsync());

        var jsonReply = await PostAsync(client, harness.HttpUrl + "/v1/metrics", OtlpJson.ToUtf8Bytes(metrics), Json + "; charset=utf-8");
        Assert.Equal(HttpStatusCode.OK, jsonReply.StatusCode);
        Assert.Equal(Json, jsonReply.Content.Headers.ContentType!.MediaType);
        Assert.Equal("{}", await jsonReply.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, harness.HttpUrl + "/v1/logs", OtlpJson.ToUtf8Bytes(logs), Json)).StatusCode);

        Assert.Equal(traces, Assert.Single(harness.Traces.Payloads));
        Assert.Equal(metrics, Assert.Single(harness.Metrics.Payloads));
        Assert.Equal(logs, Assert.Single(harness.Logs.Payloads));
        Assert.Equal(9, harness.Counter("otelcol_receiver_accepted_spans", "http"));
        Assert.Equal(6, harness.Counter("otelcol_receiver_accepted_metric_points", "http"));
        Assert.Equal(4, harness.Counter("otelcol_receiver_accepted_log_records", "http"));
    }

    [Fact]
    public async Task UnknownFields_AreDroppedAtTheReceiver_AndKnownFieldsArrive()
    {
        // Like otelcol's pdata, the pipeline carries only the fields our protos declare (the exporters' serializer
        // writes exactly those). A newer sender's extra fields, top-level and nested, must vanish without loss.
        await using var harness = await ReceiverHarness.StartAsync();
        using var http = new HttpClient();
        using var h2c = CreateH2c();
        var traces = SampleData.Traces(5);
        var body = WithUnknownFields(traces);
        Assert.NotEqual(traces, ExportTraceServiceRequest.Parser.ParseFrom(body)); // the plain parser would keep them

        Assert.Equal(HttpStatusCode.OK, (await PostAsync(http, harness.HttpUrl + "/v1/traces", body, Proto)).StatusCode);
        Assert.Equal(GrpcStatusCode.OK, (await CallGrpcAsync(h2c, harness.GrpcUrl, TracesMethod, Frame(body, compressed: false))).Status.Code);

        Assert.Equal(2, harness.Traces.Payloads.Count);
        foreach (var received in harness.Traces.Payloads)
        {
            Assert.Equal(traces, received); // generated Equals compares unknown fields too
            Assert.Equal(traces.ToByteArray(), received.ToByteArray());
        }
    }

    /// <summary>The request's bytes with an unknown field inside its ResourceSpans and another at the top level.</summary>
    private static byte[] WithUnknownFields(ExportTraceServiceRequest request)
    {
        var resourceSpans = Assert.Single(request.ResourceSpans).ToByteArray()
            .Concat(new byte[] { (15 << 3) | 2, 6 }).Concat("future"u8.ToArray()).ToArray();
        var output = new MemoryStream();
        var coded = new CodedOutputStream(output);
        coded.WriteTag(1, WireFormat.WireType.LengthDelimited);
        coded.WriteBytes(ByteString.CopyFrom(resourceSpans));
        coded.WriteTag(77, WireFormat.WireType.Varint);
        coded.WriteUInt64(123456789);
        coded.Flush();
        return output.ToArray();
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("deflate")]
    public async Task CompressedBodies_AreAccepted_AndCorruptOnesAre400(string name)
    {
        Assert.True(MessageCompression.TryParse(name, out var coding));
        await using var harness = await ReceiverHarness.StartAsync();
        using var client = new HttpClient();
        var traces = SampleData.Traces(30);
        var reply = await PostAsync(client, harness.HttpUrl + "/v1/traces", Compress(traces.ToByteArray(), coding), Proto, name);
        Assert.Equal(HttpStatusCode.OK, reply.StatusCode);
        Assert.Equal(traces, Assert.Single(harness.Traces.Payloads));

        var jsonGzip = await PostAsync(client, harness.HttpUrl + "/v1/traces", Compress(OtlpJson.ToUtf8Bytes(traces), coding), Json, name);
        Assert.Equal(HttpStatusCode.OK, jsonGzip.StatusCode);
        Assert.Equal(60, harness.Traces.Items);

        var corrupt = await PostAsync(client, harness.HttpUrl + "/v1/traces", "not compressed at all"u8.ToArray(), Proto, name);
        Assert.Equal(HttpStatusCode.BadRequest, corrupt.StatusCode);
        var status = RpcStatus.Parser.ParseFrom(await corrupt.Content.ReadAsByteArrayAsync());
        Assert.Equal((int)GrpcStatusCode.InvalidArgument, status.Code);
        Assert.Contains(name, status.Message);
    }

    [Theory]
    [InlineData("zstd")]
    [InlineData("snappy")]
    [InlineData("lz4")]
    public async Task UnsupportedCompression_Is415_NamingTheSupportedOnes(string encoding)
    {
        await using var harness = await ReceiverHarness.StartAsync();
        using var client = new HttpClient();
        var reply = await PostAsync(client, harness.HttpUrl + "/v1/traces", SampleData.Traces(1).ToByteArray(), Proto, encoding);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, reply.StatusCode);
        var status = RpcStatus.Parser.ParseFrom(await reply.Content.ReadAsByteArrayAsync());
        Assert.Contains(encoding, status.Message);
        Assert.Contains("gzip, deflate", status.Message);
        Assert.Empty(harness.Traces.Payloads);
    }

    [Fact]
    public async Task WrongPathMethodAndContentType_Get404_405_415()
    {
        await using var harness = await ReceiverHarness.StartAsync(metrics: false);
        using var client = new HttpClient();
        var body = SampleData.Traces(1).ToByteArray();

        Assert.Equal(HttpStatusCode.NotFound, (await PostAsync(client, harness.HttpUrl + "/v1/trace", body, Proto)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await PostAsync(client, harness.HttpUrl + "/v1/metrics", body, Proto)).StatusCode); // no metrics pipeline

        var get = await PostAsync(client, harness.HttpUrl + "/v1/traces", body, Proto, method: "GET");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
        Assert.Equal("POST", get.Content.Headers.Allow.Single());
        Assert.Contains("405 method not allowed", RpcStatus.Parser.ParseFrom(await get.Content.ReadAsByteArrayAsync()).Message);

        var text = await PostAsync(client, harness.HttpUrl + "/v1/traces", body, "text/plain");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, text.StatusCode);
        var message = await text.Content.ReadAsStringAsync();
        Assert.Contains("application/json", message);
        Assert.Contains("application/x-protobuf", message);
        Assert.Empty(harness.Traces.Payloads);
    }

    [Fact]
    public async Task MalformedBodies_Are400WithAStatusSayingWhatIsWrong_AndServingContinues()
    {
        await using var harness = await ReceiverHarness.StartAsync();
        using var client = new HttpClient();

        var badProto = await PostAsync(client, harness.HttpUrl + "/v1/traces", [0x0A, 100, 1, 2], Proto);
        Assert.Equal(HttpStatusCode.BadRequest, badProto.StatusCode);
        var protoStatus = RpcStatus.Parser.ParseFrom(await badProto.Content.ReadAsByteArrayAsync());
        Assert.Equal((int)GrpcStatusCode.InvalidArgument, protoStatus.Code);
        Assert.Contains("ExportTraceServiceRequest", protoStatus.Message);
        foreach (var lying in GrpcReceiverTests.LyingLengths)
            Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(client, harness.HttpUrl + "/v1/traces", lying, Proto)).StatusCode);

        var badJson = await PostAsync(client, harness.HttpUrl + "/v1/logs", "{\"resourceLogs\": [ {\"scopeLogs\": 5} ]}"u8.ToArray(), Json);
        Assert.Equal(HttpStatusCode.BadRequest, badJson.StatusCode);
        Assert.Equal(Json, badJson.Content.Headers.ContentType!.MediaType);
        var jsonStatus = OtlpJson.Parse<RpcStatus>(await badJson.Content.ReadAsByteArrayAsync());
        Assert.Equal((int)GrpcStatusCode.InvalidArgument, jsonStatus.Code);
        Assert.Contains("OTLP/JSON", jsonStatus.Message);

        var notJson = await PostAsync(client, harness.HttpUrl + "/v1/logs", "resourceLogs="u8.ToArray(), Json);
        Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, harness.HttpUrl + "/v1/traces", SampleData.Traces(3).ToByteArray(), Proto)).StatusCode);
        Assert.Equal(3, harness.Traces.Items);
        Assert.Empty(harness.Logs.Payloads);
    }

    /// <summary>A request of <paramref name="count"/> empty spans: 2 bytes each on the wire, a few hundred decoded.</summary>
    internal static byte[] EmptySpans(int count)
    {
        static byte[] Delimited(byte tag, byte[] content)
        {
            var length = new List<byte>();
            for (var v = (uint)content.Length; ; v >>= 7)
            {
                if (v < 0x80) { length.Add((byte)v); break; }
                length.Add((byte)(v | 0x80));
            }
            return [tag, .. length, .. content];
        }
        var spans = new byte[count * 2];
        for (var i = 0; i < spans.Length; i += 2) spans[i] = 0x12;
        return Delimited(0x0A, Delimited(0x12, spans));
    }

    [Fact]
    public async Task A_small_gzip_body_that_decodes_to_millions_of_objects_gets_413_before_decoding()
    {
        await using var harness = await ReceiverHarness.StartAsync();
        using var client = new HttpClient();
        var bomb = Compress(EmptySpans(9_000_000), ContentCoding.Gzip); // 18 MB of empty spans, within the 20 MB limit
        Assert.True(bomb.Length < 100_000, $"{bomb.Length} bytes");
        var response = await PostAsync(client, harness.HttpUrl + "/v1/traces", bomb, Proto, "gzip");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("decodes to more than", RpcStatus.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync()).Message);
        Assert.Empty(harness.Traces.Payloads);

        // Real spans of the same order of size pass.
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, harness.HttpUrl + "/v1/traces", Compress(SampleData.Traces(20_000).ToByteArray(), ContentCoding.Gzip), Proto, "gzip")).StatusCode);
        Assert.Equal(20_000, harness.Traces.Items);
    }

    [Fact]
    public async Task OversizeBodies_Are413_BeforeAndAfterDecompression()
    {
        await using var harness = await ReceiverHarness.StartAsync(http: c => c with { Server = c.Server with { MaxRequestBodySize = 1 << 20 } });
        using var client = new HttpClient();
        var big = SampleData.Traces(5_000).ToByteArray();
        Assert.True(big.Length > 1 << 20);

        var plain = await PostAsync(client, harness.HttpUrl + "/v1/traces", big, Proto);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, plain.StatusCode);
        Assert.Contains("max_request_body_size", RpcStatus.Parser.ParseFrom(await plain.Content.ReadAsByteArrayAsync()).Message);

        var bomb = Compress(new byte[8 << 20], ContentCoding.Gzip);
        Assert.True(bomb.Length < 1 << 20);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await PostAsync(client, harness.HttpUrl + "/v1/traces", bomb, Proto, "gzip")).StatusCode);

        // Chunked upload without Content-Length: the limit holds while reading.
        using var chunked = new HttpRequestMessage(HttpMethod.Post, harness.HttpUrl + "/v1/traces") { Content = new StreamContent(new MemoryStream(big)) };
        chunked.Content.Headers.ContentType = new(Proto);
        chunked.Headers.TransferEncodingChunked = true;
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await client.SendAsync(chunked)).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, harness.HttpUrl + "/v1/traces", SampleData.Traces(100).ToByteArray(), Proto)).StatusCode);
        Assert.Equal(100, harness.Traces.Items);
    }

    [Fact]
    public async Task PipelineRefusals_Are503And429WithRetryAfter_And400ForPermanent()
    {
        await using var harness = await ReceiverHarness.StartAsync();
        using var client = new HttpClient();
        var body = SampleData.Traces(4).ToByteArray();

        harness.Traces.Fail = _ => new RetryableDataException("exporter queue is full", TimeSpan.FromMilliseconds(2500));
        var unavailable = await PostAsync(client, harness.HttpUrl + "/v1/traces", body, Proto);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, unavailable.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(3), unavailable.Headers.RetryAfter!.Delta);
        var status = RpcStatus.Parser.ParseFrom(await unavailable.Content.ReadAsByteArrayAsync());
        Assert.Equal((int)GrpcStatusCode.Unavailable, status.Code);
        Assert.Equal(TimeSpan.FromMilliseconds(2500), GrpcStatus.FromProto(status).RetryDelay);

        harness.Traces.Fail = _ => new RetryableDataException("memory limiter", TimeSpan.FromSeconds(1), resourceExhausted: true);
        var exhausted = await PostAsync(client, harness.HttpUrl + "/v1/traces", body, Proto);
        Assert.Equal(HttpStatusCode.TooManyRequests, exhausted.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), exhausted.Headers.RetryAfter!.Delta);

        harness.Traces.Fail = _ => new RetryableDataException("backend down");
        var noDelay = await PostAsync(client, harness.HttpUrl + "/v1/traces", OtlpJson.ToUtf8Bytes(SampleData.Traces(4)), Json);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, noDelay.StatusCode);
        Assert.Null(noDelay.Headers.RetryAfter);
        Assert.Equal("backend down", OtlpJson.Parse<RpcStatus>(await noDelay.Content.ReadAsByteArrayAsync()).Message);

        harness.Traces.Fail = _ => new PermanentDataException("rejected by policy");
        var permanent = await PostAsync(client, harness.HttpUrl + "/v1/traces", body, Proto);
        Assert.Equal(HttpStatusCode.BadRequest, permanent.StatusCode);
        Assert.Null(permanent.Headers.RetryAfter);

        Assert.Equal(16, harness.Counter("otelcol_receiver_refused_spans", "http"));
        harness.Traces.Fail = null;
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, harness.HttpUrl + "/v1/traces", body, Proto)).StatusCode);
    }

    [Fact]
    public async Task PartialSuccess_InJson_CountsRejectedSpans()
    {
        await using var harness = await ReceiverHarness.StartAsync();
        using var client = new HttpClient();
        var traces = SampleData.Traces(5);
        traces.ResourceSpans[0].ScopeSpans[0].Spans[2].TraceId = ByteString.Empty;
        var reply = await PostAsync(client, harness.HttpUrl + "/v1/traces", OtlpJson.ToUtf8Bytes(traces), Json);
        Assert.Equal(HttpStatusCode.OK, reply.StatusCode);
        var response = OtlpJson.Parse<ExportTraceServiceResponse>(await reply.Content.ReadAsByteArrayAsync());
        Assert.Equal(1, response.PartialSuccess.RejectedSpans);
        Assert.Contains("trace_id", response.PartialSuccess.ErrorMessage);
        Assert.Equal(4, harness.Traces.Items);
    }

    [Fact]
    public async Task CustomPaths_ResponseHeaders_AndMetadata()
    {
        await using var harness = await ReceiverHarness.StartAsync(http: c => c with
        {
            TracesUrlPath = "/otlp/v1/traces",
            Server = c.Server with { IncludeMetadata = true, ResponseHeaders = new() { ["X-Served-By"] = "otelai" } },
        });
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, harness.HttpUrl + "/otlp/v1/traces")
        {
            Content = new ByteArrayContent(SampleData.Traces(2).ToByteArray()),
        };
        request.Content.Headers.ContentType = new(Proto);
        request.Headers.Add("X-Scope-OrgID", "tenant-b");
        var reply = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, reply.StatusCode);
        Assert.Equal("otelai", reply.Headers.GetValues("X-Served-By").Single());
        Assert.Equal("tenant-b", harness.Traces.Clients.Single().GetFirst("x-scope-orgid"));
        Assert.Equal(HttpStatusCode.NotFound, (await PostAsync(client, harness.HttpUrl + "/v1/traces", SampleData.Traces(1).ToByteArray(), Proto)).StatusCode);
    }

    [Fact]
    public async Task Cors_AnswersPreflightsForAllowedOrigins()
    {
        await using var harness = await ReceiverHarness.StartAsync(http: c => c with
        {
            Server = c.Server with { Cors = new CorsSettings { AllowedOrigins = ["https://*.example.com", "http://localhost:3000"], AllowedHeaders = ["X-Custom"], MaxAge = 600 } },
        });
        using var client = new HttpClient();

        async Task<HttpResponseMessage> Preflight(string origin, string headers)
        {
            using var request = new HttpRequestMessage(HttpMethod.Options, harness.HttpUrl + "/v1/traces");
            request.Headers.Add("Origin", origin);
            request.Headers.Add("Access-Control-Request-Method", "POST");
            request.Headers.Add("Access-Control-Request-Headers", headers);
            return await client.SendAsync(request);
        }

        var allowed = await Preflight("https://app.example.com", "content-type, x-custom");
        Assert.Equal(HttpStatusCode.NoContent, allowed.StatusCode);
        Assert.Equal("https://app.example.com", allowed.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Equal("POST", allowed.Headers.GetValues("Access-Control-Allow-Methods").Single());
        Assert.Equal("600", allowed.Headers.GetValues("Access-Control-Max-Age").Single());
        Assert.Contains("x-custom", allowed.Headers.GetValues("Access-Control-Allow-Headers").Single());

        var otherOrigin = await Preflight("https://evil.test", "content-type");
        Assert.False(otherOrigin.Headers.Contains("Access-Control-Allow-Origin"));
        var otherHeader = await Preflight("http://localhost:3000", "x-secret");
        Assert.False(otherHeader.Headers.Contains("Access-Control-Allow-Origin"));

        using var actual = new HttpRequestMessage(HttpMethod.Post, harness.HttpUrl + "/v1/traces") { Content = new ByteArrayContent(SampleData.Traces(1).ToByteArray()) };
        actual.Content.Headers.ContentType = new(Proto);
        actual.Headers.Add("Origin", "http://localhost:3000");
        var reply = await client.SendAsync(actual);
        Assert.Equal(HttpStatusCode.OK, reply.StatusCode);
        Assert.Equal("http://localhost:3000", reply.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Single(harness.Traces.Payloads);
    }

    [Fact]
    public async Task MalformedChunkedBody_Gets400WithAStatusBody_AndTheReceiverKeepsServing()
    {
        await using var harness = await ReceiverHarness.StartAsync();
        var body = SampleData.Traces(3).ToByteArray();

        // A chunk size that is not hex: Kestrel rejects the body while our handler reads it.
        using (var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp))
        {
            await socket.ConnectAsync(IPAddress.Loopback, harness.HttpPort);
            var request = $"POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {Proto}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
            await socket.SendAsync(Encoding.ASCII.GetBytes(request));
            var reply = new List<byte>();
            var buffer = new byte[4096];
            int read;
            while ((read = await socket.ReceiveAsync(buffer)) > 0) reply.AddRange(buffer.AsSpan(0, read).ToArray());
            var text = Encoding.ASCII.GetString(reply.ToArray());
            Assert.StartsWith("HTTP/1.1 400", text);
            var status = RpcStatus.Parser.ParseFrom(reply.Skip(text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4).ToArray());
            Assert.Equal((int)GrpcStatusCode.InvalidArgument, status.Code);
            Assert.Contains("request body", status.Message);
        }

        Assert.Empty(harness.Traces.Payloads);
        using var client = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, harness.HttpUrl + "/v1/traces", body, Proto)).StatusCode);
        Assert.Single(harness.Traces.Payloads);
    }
}
