using OtelAi.TestSupport;
using System.Diagnostics;
using System.Text.Json;
using OtelAi.Otlp.Proto.Trace.V1;
using static OtelAi.OtlpReceiver.Tests.DotnetSdkInteropTests;

namespace OtelAi.OtlpReceiver.Tests;

/// <summary>The OpenTelemetry JS SDK exporters from npm (grpc-js, HTTP/protobuf, HTTP/JSON) against our receiver.</summary>
public sealed class JsSdkInteropTests
{
    public static TheoryData<string> Transports => new() { "grpc", "proto", "json" };

    private static string Url(ReceiverHarness harness, string transport, string path) =>
        transport == "grpc" ? harness.GrpcUrl : harness.HttpUrl + path;

    private static string Transport(string transport) => transport == "grpc" ? "grpc" : "http";

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Traces_ArriveIntact(string transport)
    {
        await using var harness = await ReceiverHarness.StartAsync();
        using var sent = await Interop.RunNodeAsync("otlp-client.js", "traces", transport, Url(harness, transport, "/v1/traces"));
        var expected = sent.RootElement.GetProperty("spans").EnumerateArray().ToList();

        await harness.Traces.WaitForItemsAsync(expected.Count);
        // The SDK's simple processor sends one request per span: every one carries resource and scope.
        var received = harness.Traces.Merged();
        foreach (var rs in received.ResourceSpans)
        {
            AssertAttribute(rs.Resource.Attributes, "service.name", $"js-client-{transport}");
            AssertAttribute(rs.Resource.Attributes, "deployment.environment", "interop");
            var s = Assert.Single(rs.ScopeSpans);
            Assert.Equal("interop.js", s.Scope.Name);
            Assert.Equal("1.0.1", s.Scope.Version);
        }
        var all = received.ResourceSpans.SelectMany(r => r.ScopeSpans).SelectMany(s => s.Spans).ToList();
        var spans = all.ToDictionary(s => Convert.ToHexStringLower(s.SpanId.Span));
        Assert.Equal(expected.Count, spans.Count);
        foreach (var e in expected)
        {
            var span = spans[e.GetProperty("spanId").GetString()!];
            Assert.Equal(e.GetProperty("traceId").GetString(), Convert.ToHexStringLower(span.TraceId.Span));
            Assert.Equal(e.GetProperty("parentSpanId").GetString(), Convert.ToHexStringLower(span.ParentSpanId.Span));
            Assert.Equal(e.GetProperty("name").GetString(), span.Name);
            Assert.True(span.EndTimeUnixNano >= span.StartTimeUnixNano && span.StartTimeUnixNano > 1_600_000_000_000_000_000UL);
        }

        var root = all.Single(s => s.ParentSpanId.IsEmpty);
        Assert.Equal(Span.Types.SpanKind.Server, root.Kind);
        AssertAttribute(root.Attributes, "http.request.method", "POST");
        Assert.Equal(128, Find(root.Attributes, "gen_ai.usage.output_tokens").IntValue);
        Assert.Equal(0.9, Find(root.Attributes, "gen_ai.request.top_p").DoubleValue);
        Assert.True(Find(root.Attributes, "stream").BoolValue);
        Assert.Equal(["a", "b"], Find(root.Attributes, "stop").ArrayValue.Values.Select(v => v.StringValue));
        Assert.Equal("first_token", Assert.Single(root.Events).Name);
        Assert.Equal(0, Find(root.Events[0].Attributes, "token.index").IntValue);
        Assert.Equal(Status.Types.StatusCode.Error, root.Status.Code);
        Assert.Equal("overloaded", root.Status.Message);
        foreach (var child in all.Where(s => !s.ParentSpanId.IsEmpty))
        {
            Assert.Equal(Span.Types.SpanKind.Client, child.Kind);
            Assert.Equal(Status.Types.StatusCode.Ok, child.Status.Code);
            var link = Assert.Single(child.Links);
            Assert.Equal("aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbb", Convert.ToHexStringLower(link.TraceId.Span));
            Assert.Equal("cccccccccccccccc", Convert.ToHexStringLower(link.SpanId.Span));
            AssertAttribute(link.Attributes, "link.kind", "retry-of");
        }
        Assert.Equal(expected.Count, harness.Counter("otelcol_receiver_accepted_spans", Transport(transport)));
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Metrics_ArriveIntact(string transport)
    {
        await using var harness = await ReceiverHarness.StartAsync();
        using var _ = await Interop.RunNodeAsync("otlp-client.js", "metrics", transport, Url(harness, transport, "/v1/metrics"));
        await harness.Metrics.WaitForItemsAsync(3);
        // Flush and shutdown may both export the (cumulative) state; the first request holds all of it.
        var rm = Assert.Single(harness.Metrics.Payloads[0].ResourceMetrics);
        AssertAttribute(rm.Resource.Attributes, "service.name", $"js-client-{transport}");
        var scope = rm.ScopeMetrics.Single(s => s.Scope.Name == "interop.js.meter");
        Assert.Equal("0.3.0", scope.Scope.Version);
        var requests = scope.Metrics.Single(m => m.Name == "inference.requests");
        Assert.Equal("{request}", requests.Unit);
        Assert.Equal("Requests served", requests.Description);
        Assert.True(requests.Sum.IsMonotonic);
        Assert.Equal(5, requests.Sum.DataPoints.Single(p => Find(p.Attributes, "model").StringValue == "llama-3").AsDouble + requests.Sum.DataPoints.Single(p => Find(p.Attributes, "model").StringValue == "llama-3").AsInt);
        Assert.Equal(2, requests.Sum.DataPoints.Single(p => Find(p.Attributes, "model").StringValue == "mistral").AsDouble + requests.Sum.DataPoints.Single(p => Find(p.Attributes, "model").StringValue == "mistral").AsInt);
        var point = Assert.Single(scope.Metrics.Single(m => m.Name == "inference.latency").Histogram.DataPoints);
        Assert.Equal(2UL, point.Count);
        Assert.Equal(92.5, point.Sum);
        Assert.Equal(12.5, point.Min);
        Assert.Equal(80, point.Max);
        Assert.Equal(2UL, point.BucketCounts.Aggregate(0UL, (a, b) => a + b));
        Assert.True(harness.Counter("otelcol_receiver_accepted_metric_points", Transport(transport)) >= 3);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Logs_ArriveIntact(string transport)
    {
        await using var harness = await ReceiverHarness.StartAsync();
        using var _ = await Interop.RunNodeAsync("otlp-client.js", "logs", transport, Url(harness, transport, "/v1/logs"));
        await harness.Logs.WaitForItemsAsync(2);
        var resourceLogs = harness.Logs.Merged().ResourceLogs;
        Assert.All(resourceLogs, rl => AssertAttribute(rl.Resource.Attributes, "service.name", $"js-client-{transport}"));
        var records = resourceLogs.SelectMany(rl => rl.ScopeLogs).Where(s => s.Scope.Name == "interop.js.logger").SelectMany(s => s.LogRecords).ToList();
        Assert.Equal(2, records.Count);
        var warn = records.Single(r => r.SeverityText == "WARN");
        Assert.Equal(OtelAi.Otlp.Proto.Logs.V1.SeverityNumber.Warn, warn.SeverityNumber);
        Assert.Equal("model llama-3 answered slowly", warn.Body.StringValue);
        Assert.Equal(412, Find(warn.Attributes, "latency.ms").IntValue);
        AssertAttribute(warn.Attributes, "model", "llama-3");
        Assert.Equal("plain message", records.Single(r => r.SeverityText == "INFO").Body.StringValue);
        Assert.Equal(2, harness.Counter("otelcol_receiver_accepted_log_records", Transport(transport)));
    }
}

/// <summary>Runs the interop clients kept in tests/interop (npm packages installed by test.sh).</summary>
internal static class Interop
{
    public static string Directory => RepositoryPaths.Interop;

    /// <summary>Runs node with <paramref name="args"/>, fails the test on a non-zero exit, returns stdout's last line as JSON.</summary>
    public static async Task<JsonDocument> RunNodeAsync(params string[] args)
    {
        Assert.True(System.IO.Directory.Exists(Path.Combine(Directory, "node_modules")), $"run `npm ci` in {Directory} first (test.sh does)");
        var output = await RunAsync("node", Directory, args);
        return JsonDocument.Parse(output.Trim().Split('\n')[^1]);
    }

    public static async Task<string> RunAsync(string program, string workingDirectory, params string[] args)
    {
        var info = new ProcessStartInfo(program) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try { await process.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish: {await stderr}");
        }
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', args)} exited {process.ExitCode}: {await stderr}\n{await stdout}");
        return await stdout;
    }
}
