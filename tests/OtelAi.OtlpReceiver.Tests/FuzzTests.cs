using System.Globalization;
using System.Net;
using CsCheck;
using Google.Protobuf;
using OtelAi.Otlp;
using OtelAi.Otlp.Grpc;
using OtelAi.Otlp.Json;
using OtelAi.TestSupport;
using static OtelAi.OtlpReceiver.Tests.WireClients;

namespace OtelAi.OtlpReceiver.Tests;

/// <summary>
/// Valid OTLP requests of every signal, in protobuf and JSON, mutated (bit flips, truncation, lying lengths, wrong
/// wire types, repeated regions, deep nesting, invalid UTF-8, gzip bombs) and sent to a running receiver over
/// HTTP and gRPC: every answer is a success or a client error (200/400/413/415, or the gRPC statuses for bad
/// input), never a 500, an unknown status or a hang, and a valid request afterwards still succeeds.
/// OTELAI_FUZZ_CASES sets the number of cases per transport (default 300); CsCheck prints the seed of a failing
/// case, which CsCheck_Seed replays.
/// </summary>
public sealed class FuzzTests
{
    private static readonly int Cases = int.TryParse(Environment.GetEnvironmentVariable("OTELAI_FUZZ_CASES"), CultureInfo.InvariantCulture, out var cases) ? cases : 300;

    private sealed record Base(string Path, string GrpcMethod, bool Json, byte[] Body);

    private static readonly Base[] Bases =
    [
        new("/v1/traces", TracesMethod, false, SampleData.Traces(20).ToByteArray()),
        new("/v1/metrics", MetricsMethod, false, SampleData.Metrics(10).ToByteArray()),
        new("/v1/logs", LogsMethod, false, SampleData.Logs(20).ToByteArray()),
        new("/v1/traces", TracesMethod, true, System.Text.Encoding.UTF8.GetBytes(OtlpJson.ToJson(SampleData.Traces(5)))),
        new("/v1/metrics", MetricsMethod, true, System.Text.Encoding.UTF8.GetBytes(OtlpJson.ToJson(SampleData.Metrics(5)))),
        new("/v1/logs", LogsMethod, true, System.Text.Encoding.UTF8.GetBytes(OtlpJson.ToJson(SampleData.Logs(5)))),
    ];

    private enum Mutation { BitFlip, Truncate, LyingLength, WrongWireType, RepeatedRegion, DeepNesting, InvalidUtf8, GzipBomb }

    /// <summary>One mutated request: which base, how it was changed, the bytes sent and the Content-Encoding.</summary>
    private sealed record FuzzCase(Base Base, Mutation Mutation, int Position, int Argument)
    {
        public (byte[] Body, string? Encoding) Build()
        {
            var body = Base.Body;
            var at = Position % body.Length;
            switch (Mutation)
            {
                case Mutation.BitFlip:
                    body = (byte[])body.Clone();
                    body[at] ^= (byte)(1 << (Argument % 8));
                    return (body, null);
                case Mutation.Truncate:
                    return (body[..at], null);
                case Mutation.LyingLength:
                    return ([.. body[..at], .. Varint((uint)(int.MaxValue - Argument % 64)), .. body[Math.Min(body.Length, at + 1)..]], null);
                case Mutation.WrongWireType:
                    body = (byte[])body.Clone();
                    body[at] = (byte)((body[at] & ~7) | (Argument % 8));
                    return (body, null);
                case Mutation.RepeatedRegion:
                    var region = body[at..Math.Min(body.Length, at + 1 + Argument % 64)];
                    var copies = Math.Min(1 << 20, Base.Body.Length * 50) / region.Length;
                    return ([.. body[..at], .. Enumerable.Repeat(region, copies).SelectMany(r => r), .. body[at..]], null);
                case Mutation.DeepNesting:
                    return (Base.Json ? DeepJson(Base.Path, 200 + Argument % 2000) : DeepProtobuf(200 + Argument % 2000), null);
                case Mutation.InvalidUtf8:
                    return ([.. body[..at], 0xC3, 0x28, 0xFF, .. body[at..]], null);
                default:
                    return (WireClients.Compress(new byte[(21 + Argument % 40) << 20], ContentCoding.Gzip), "gzip");
            }
        }

        public override string ToString() => $"{Mutation} of {(Base.Json ? "JSON" : "protobuf")} {Base.Path} at {Position}, argument {Argument}";
    }

    private static byte[] Varint(uint value)
    {
        var bytes = new List<byte>();
        for (; value >= 0x80; value >>= 7) bytes.Add((byte)(value | 0x80));
        bytes.Add((byte)value);
        return [.. bytes];
    }

    /// <summary>A resource attribute whose value nests key-value lists <paramref name="depth"/> deep (AnyValue → KeyValueList → KeyValue → ...).</summary>
    private static byte[] DeepProtobuf(int depth)
    {
        byte[] value = [0x0A, 0x01, (byte)'x']; // AnyValue { string_value: "x" }
        for (var i = 0; i < depth; i++)
        {
            byte[] keyValue = [0x0A, 0x01, (byte)'k', 0x12, .. Varint((uint)value.Length), .. value];
            byte[] list = [0x0A, .. Varint((uint)keyValue.Length), .. keyValue];
            value = [0x32, .. Varint((uint)list.Length), .. list];
        }
        byte[] attribute = [0x0A, 0x01, (byte)'a', 0x12, .. Varint((uint)value.Length), .. value];
        byte[] resource = [0x0A, .. Varint((uint)attribute.Length), .. attribute];
        byte[] resourceSpans = [0x0A, .. Varint((uint)resource.Length), .. resource];
        return [0x0A, .. Varint((uint)resourceSpans.Length), .. resourceSpans];
    }

    private static byte[] DeepJson(string path, int depth)
    {
        var top = path switch { "/v1/traces" => "resourceSpans", "/v1/metrics" => "resourceMetrics", _ => "resourceLogs" };
        var value = string.Concat(Enumerable.Repeat("{\"kvlistValue\":{\"values\":[{\"key\":\"k\",\"value\":", depth)) + "{\"stringValue\":\"x\"}"
            + string.Concat(Enumerable.Repeat("}]}}", depth));
        return System.Text.Encoding.UTF8.GetBytes($"{{\"{top}\":[{{\"resource\":{{\"attributes\":[{{\"key\":\"a\",\"value\":{value}}}]}}}}]}}");
    }

    private static readonly Gen<FuzzCase> Requests =
        Gen.Select(Gen.Int[0, Bases.Length - 1], Gen.Enum<Mutation>(), Gen.Int[0, int.MaxValue], Gen.Int[0, int.MaxValue],
            (b, mutation, position, argument) => new FuzzCase(Bases[b], mutation, position, argument));

    [Fact]
    public async Task Mutated_requests_over_HTTP_get_a_client_answer_and_the_receiver_keeps_serving()
    {
        await using var harness = await ReceiverHarness.StartAsync();
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        await Requests.SampleAsync(async request =>
        {
            var (body, encoding) = request.Build();
            using var response = await PostAsync(client, harness.HttpUrl + request.Base.Path, body, request.Base.Json ? "application/json" : "application/x-protobuf", encoding);
            Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge or HttpStatusCode.UnsupportedMediaType,
                $"{request}: HTTP {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }, iter: Cases, threads: 1, print: request => request.ToString());

        var valid = await PostAsync(client, harness.HttpUrl + "/v1/traces", SampleData.Traces(3).ToByteArray(), "application/x-protobuf");
        Assert.Equal(HttpStatusCode.OK, valid.StatusCode);
    }

    [Fact]
    public async Task Mutated_requests_over_gRPC_get_a_client_status_and_the_receiver_keeps_serving()
    {
        await using var harness = await ReceiverHarness.StartAsync();
        using var client = CreateH2c();
        client.Timeout = TimeSpan.FromSeconds(30);
        await Requests.Where(r => !r.Base.Json && r.Mutation != Mutation.GzipBomb).SampleAsync(async request =>
        {
            var (body, _) = request.Build();
            var reply = await CallGrpcAsync(client, harness.GrpcUrl, request.Base.GrpcMethod, Frame(body, compressed: false));
            Assert.True(reply.HttpStatus == HttpStatusCode.OK && reply.Status.Code is GrpcStatusCode.OK or GrpcStatusCode.InvalidArgument or GrpcStatusCode.ResourceExhausted,
                $"{request}: HTTP {(int)reply.HttpStatus}, {reply.Status.Code} {reply.Status.Message}");
        }, iter: Cases, threads: 1, print: request => request.ToString());

        var bomb = Frame(WireClients.Compress(new byte[32 << 20], ContentCoding.Gzip), compressed: true);
        var bombReply = await CallGrpcAsync(client, harness.GrpcUrl, TracesMethod, bomb, headers: new Dictionary<string, string> { ["grpc-encoding"] = "gzip" });
        Assert.Equal(GrpcStatusCode.ResourceExhausted, bombReply.Status.Code);
        Assert.Equal(GrpcStatusCode.OK, (await CallGrpcAsync(client, harness.GrpcUrl, TracesMethod, Frame(SampleData.Traces(3)))).Status.Code);
    }
}
