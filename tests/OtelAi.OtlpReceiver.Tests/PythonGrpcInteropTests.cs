using OtelAi.Otlp;
using Google.Protobuf;
using OtelAi.Engine.Consumers;
using OtelAi.Otlp.Grpc;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.TestSupport;
using static OtelAi.OtlpReceiver.Tests.WireClients;

namespace OtelAi.OtlpReceiver.Tests;

/// <summary>python3-grpcio (Debian) calling our Export methods with request bytes produced here.</summary>
public sealed class PythonGrpcInteropTests
{
    private static async Task<(GrpcStatusCode Code, string Details, byte[] Response)> CallAsync(
        ReceiverHarness harness, string method, IMessage request, params string[] metadata)
    {
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllBytesAsync(file, request.ToByteArray());
            var output = await Interop.RunAsync("/usr/bin/python3", Interop.Directory,
                ["grpc-python-client.py", $"127.0.0.1:{harness.GrpcPort}", method, file, .. metadata]);
            using var reply = System.Text.Json.JsonDocument.Parse(output.Trim().Split('\n')[^1]);
            var root = reply.RootElement;
            return ((GrpcStatusCode)root.GetProperty("code").GetInt32(), root.GetProperty("details").GetString()!,
                Convert.FromHexString(root.GetProperty("response_hex").GetString()!));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task AllSignals_ArriveIntact()
    {
        await using var harness = await ReceiverHarness.StartAsync(grpc: c => c with { IncludeMetadata = true });
        var traces = SampleData.Traces(50);
        var metrics = SampleData.Metrics(30);
        var logs = SampleData.Logs(20);

        var (code, _, response) = await CallAsync(harness, TracesMethod, traces, "x-model-id=llama-3");
        Assert.Equal(GrpcStatusCode.OK, code);
        Assert.Null(ExportTraceServiceResponse.Parser.ParseFrom(response).PartialSuccess);
        Assert.Equal(GrpcStatusCode.OK, (await CallAsync(harness, MetricsMethod, metrics)).Code);
        Assert.Equal(GrpcStatusCode.OK, (await CallAsync(harness, LogsMethod, logs)).Code);

        Assert.Equal(traces, Assert.Single(harness.Traces.Payloads));
        Assert.Equal(metrics, Assert.Single(harness.Metrics.Payloads));
        Assert.Equal(logs, Assert.Single(harness.Logs.Payloads));
        Assert.Equal("llama-3", harness.Traces.Clients.Single().GetFirst("x-model-id"));
        Assert.StartsWith("grpc-python", harness.Traces.Clients.Single().GetFirst("user-agent"));
    }

    [Fact]
    public async Task Errors_ReachThePythonClientWithTheirStatus()
    {
        await using var harness = await ReceiverHarness.StartAsync();
        harness.Traces.Fail = _ => new RetryableDataException("queue 100% full", TimeSpan.FromSeconds(2));
        var (code, details, _) = await CallAsync(harness, TracesMethod, SampleData.Traces(3));
        Assert.Equal(GrpcStatusCode.Unavailable, code);
        Assert.Equal("queue 100% full", details);

        var unknown = await CallAsync(harness, "/opentelemetry.proto.collector.trace.v1.TraceService/Nope", SampleData.Traces(1));
        Assert.Equal(GrpcStatusCode.Unimplemented, unknown.Code);

        var partial = SampleData.Traces(4);
        partial.ResourceSpans[0].ScopeSpans[0].Spans[0].SpanId = ByteString.CopyFrom(1, 2, 3);
        harness.Traces.Fail = null;
        var (okCode, _, response) = await CallAsync(harness, TracesMethod, partial);
        Assert.Equal(GrpcStatusCode.OK, okCode);
        Assert.Equal(1, ExportTraceServiceResponse.Parser.ParseFrom(response).PartialSuccess.RejectedSpans);
        Assert.Equal(3, harness.Traces.Items);
    }
}
