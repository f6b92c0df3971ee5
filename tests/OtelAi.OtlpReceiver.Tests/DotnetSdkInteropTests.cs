using System.Diagnostics;
using System.Diagnostics.Metrics;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Trace.V1;
using Status = OtelAi.Otlp.Proto.Trace.V1.Status;

namespace OtelAi.OtlpReceiver.Tests;

/// <summary>The OpenTelemetry .NET SDK's OTLP exporter (a client we did not write) against our receiver, gRPC and HTTP/protobuf.</summary>
public sealed class DotnetSdkInteropTests
{
    public static TheoryData<OtlpExportProtocol> Protocols => new() { OtlpExportProtocol.Grpc, OtlpExportProtocol.HttpProtobuf };

    private static Uri Endpoint(ReceiverHarness harness, OtlpExportProtocol protocol, string signalPath) =>
        protocol == OtlpExportProtocol.Grpc ? new Uri(harness.GrpcUrl) : new Uri(harness.HttpUrl + signalPath);

    private static ResourceBuilder Resource() => ResourceBuilder.CreateEmpty()
        .AddService("dotnet-client", serviceVersion: "3.1.4", serviceInstanceId: "instance-7")
        .AddAttributes([new("deployment.environment", "interop")]);

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Traces_ArriveIntact(OtlpExportProtocol protocol)
    {
        await using var harness = await ReceiverHarness.StartAsync();
        var sourceName = "interop.dotnet." + protocol;
        using var source = new ActivitySource(sourceName, "2.1.0");
        var activities = new List<Activity>();
        using (var provider = Sdk.CreateTracerProviderBuilder()
                   .SetResourceBuilder(Resource())
                   .AddSource(sourceName)
                   .AddOtlpExporter(o =>
                   {
                       o.Endpoint = Endpoint(harness, protocol, "/v1/traces");
                       o.Protocol = protocol;
                       o.ExportProcessorType = ExportProcessorType.Batch;
                   })
                   .Build())
        {
            var linked = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);
            using (var parent = source.StartActivity("POST /v1/chat/completions", ActivityKind.Server)!)
            {
                parent.SetTag("http.request.method", "POST");
                parent.SetTag("gen_ai.usage.input_tokens", 512L);
                parent.SetTag("gen_ai.request.temperature", 0.7);
                parent.SetTag("cache.hit", true);
                parent.SetTag("gen_ai.stop_sequences", new[] { "\n\n", "END" });
                parent.AddEvent(new ActivityEvent("first_token", tags: new ActivityTagsCollection { ["token.index"] = 0L }));
                parent.SetStatus(ActivityStatusCode.Error, "model overloaded");
                activities.Add(parent);
                for (var i = 0; i < 3; i++)
                {
                    using var child = source.StartActivity($"infer-{i}", ActivityKind.Client, parent.Context,
                        tags: [new("attempt", (long)i)], links: [new ActivityLink(linked, new ActivityTagsCollection { ["link.kind"] = "retry-of" })])!;
                    child.SetStatus(ActivityStatusCode.Ok);
                    activities.Add(child);
                }
            }
            Assert.True(provider.ForceFlush(30_000));
        }

        await harness.Traces.WaitForItemsAsync(activities.Count);
        var received = harness.Traces.Merged();
        var rs = Assert.Single(received.ResourceSpans);
        AssertAttribute(rs.Resource.Attributes, "service.name", "dotnet-client");
        AssertAttribute(rs.Resource.Attributes, "service.version", "3.1.4");
        AssertAttribute(rs.Resource.Attributes, "deployment.environment", "interop");
        var scope = Assert.Single(rs.ScopeSpans);
        Assert.Equal(sourceName, scope.Scope.Name);
        Assert.Equal("2.1.0", scope.Scope.Version);

        var spans = scope.Spans.ToDictionary(s => Convert.ToHexStringLower(s.SpanId.Span));
        Assert.Equal(activities.Count, spans.Count);
        foreach (var activity in activities)
        {
            var span = spans[activity.SpanId.ToHexString()];
            Assert.Equal(activity.TraceId.ToHexString(), Convert.ToHexStringLower(span.TraceId.Span));
            Assert.Equal(activity.ParentSpanId == default ? "" : activity.ParentSpanId.ToHexString(), Convert.ToHexStringLower(span.ParentSpanId.Span));
            Assert.Equal(activity.DisplayName, span.Name);
            Assert.Equal(activity.Kind == ActivityKind.Server ? Span.Types.SpanKind.Server : Span.Types.SpanKind.Client, span.Kind);
            Assert.Equal((ulong)(activity.StartTimeUtc - DateTime.UnixEpoch).Ticks * 100, span.StartTimeUnixNano);
            Assert.Equal(span.StartTimeUnixNano + (ulong)activity.Duration.Ticks * 100, span.EndTimeUnixNano);
        }

        var root = spans[activities[0].SpanId.ToHexString()];
        AssertAttribute(root.Attributes, "http.request.method", "POST");
        Assert.Equal(512, Find(root.Attributes, "gen_ai.usage.input_tokens").IntValue);
        Assert.Equal(0.7, Find(root.Attributes, "gen_ai.request.temperature").DoubleValue);
        Assert.True(Find(root.Attributes, "cache.hit").BoolValue);
        Assert.Equal(["\n\n", "END"], Find(root.Attributes, "gen_ai.stop_sequences").ArrayValue.Values.Select(v => v.StringValue));
        var ev = Assert.Single(root.Events);
        Assert.Equal("first_token", ev.Name);
        Assert.Equal(0, Find(ev.Attributes, "token.index").IntValue);
        Assert.Equal(Status.Types.StatusCode.Error, root.Status.Code);
        Assert.Equal("model overloaded", root.Status.Message);

        foreach (var child in activities.Skip(1))
        {
            var span = spans[child.SpanId.ToHexString()];
            Assert.Equal(Status.Types.StatusCode.Ok, span.Status.Code);
            var link = Assert.Single(span.Links);
            var expected = child.Links.Single();
            Assert.Equal(expected.Context.TraceId.ToHexString(), Convert.ToHexStringLower(link.TraceId.Span));
            Assert.Equal(expected.Context.SpanId.ToHexString(), Convert.ToHexStringLower(link.SpanId.Span));
            AssertAttribute(link.Attributes, "link.kind", "retry-of");
        }

        var transport = protocol == OtlpExportProtocol.Grpc ? "grpc" : "http";
        Assert.Equal(activities.Count, harness.Counter("otelcol_receiver_accepted_spans", transport));
        Assert.Equal(0, harness.Counter("otelcol_receiver_refused_spans", transport));
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Metrics_ArriveIntact(OtlpExportProtocol protocol)
    {
        await using var harness = await ReceiverHarness.StartAsync();
        var meterName = "interop.meter." + protocol;
        using var meter = new Meter(meterName, "0.9.0");
        var counter = meter.CreateCounter<long>("inference.requests", "{request}", "Requests served");
        var histogram = meter.CreateHistogram<double>("inference.latency", "ms");
        using (var provider = Sdk.CreateMeterProviderBuilder()
                   .SetResourceBuilder(Resource())
                   .AddMeter(meterName)
                   .AddOtlpExporter(o =>
                   {
                       o.Endpoint = Endpoint(harness, protocol, "/v1/metrics");
                       o.Protocol = protocol;
                   })
                   .Build())
        {
            counter.Add(5, new KeyValuePair<string, object?>("model", "llama-3"));
            counter.Add(2, new KeyValuePair<string, object?>("model", "mistral"));
            histogram.Record(12.5, new KeyValuePair<string, object?>("model", "llama-3"));
            histogram.Record(80, new KeyValuePair<string, object?>("model", "llama-3"));
            Assert.True(provider.ForceFlush(30_000));
        }

        await harness.Metrics.WaitForItemsAsync(3);
        var metrics = harness.Metrics.Payloads
            .SelectMany(r => r.ResourceMetrics).SelectMany(rm => rm.ScopeMetrics)
            .Where(sm => sm.Scope.Name == meterName).SelectMany(sm => sm.Metrics).ToList();
        var requests = metrics.First(m => m.Name == "inference.requests");
        Assert.Equal("{request}", requests.Unit);
        Assert.Equal("Requests served", requests.Description);
        Assert.True(requests.Sum.IsMonotonic);
        Assert.Equal(5, requests.Sum.DataPoints.Single(p => Find(p.Attributes, "model").StringValue == "llama-3").AsInt);
        Assert.Equal(2, requests.Sum.DataPoints.Single(p => Find(p.Attributes, "model").StringValue == "mistral").AsInt);
        var latency = metrics.First(m => m.Name == "inference.latency");
        var point = Assert.Single(latency.Histogram.DataPoints);
        Assert.Equal(2UL, point.Count);
        Assert.Equal(92.5, point.Sum);
        Assert.Equal(12.5, point.Min);
        Assert.Equal(80, point.Max);
        Assert.Equal(point.ExplicitBounds.Count + 1, point.BucketCounts.Count);
        Assert.Equal(2UL, point.BucketCounts.Aggregate(0UL, (a, b) => a + b));
        AssertAttribute(harness.Metrics.Payloads[0].ResourceMetrics[0].Resource.Attributes, "service.instance.id", "instance-7");
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Logs_ArriveIntact(OtlpExportProtocol protocol)
    {
        await using var harness = await ReceiverHarness.StartAsync();
        var sourceName = "interop.logs." + protocol;
        using var source = new ActivitySource(sourceName);
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == sourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        ActivityTraceId traceId;
        ActivitySpanId spanId;
        using (var factory = LoggerFactory.Create(builder => builder.AddOpenTelemetry(o =>
               {
                   o.SetResourceBuilder(Resource());
                   o.AddOtlpExporter(e =>
                   {
                       e.Endpoint = Endpoint(harness, protocol, "/v1/logs");
                       e.Protocol = protocol;
                   });
               })))
        {
            var logger = factory.CreateLogger("Inference.Gateway");
            using (var activity = source.StartActivity("serve")!)
            {
                traceId = activity.TraceId;
                spanId = activity.SpanId;
                logger.LogWarning("model {Model} answered in {LatencyMs} ms", "llama-3", 412);
            }
            logger.LogInformation("plain message");
        }

        await harness.Logs.WaitForItemsAsync(2);
        var records = harness.Logs.Payloads.SelectMany(r => r.ResourceLogs).SelectMany(rl => rl.ScopeLogs)
            .Where(sl => sl.Scope.Name == "Inference.Gateway").SelectMany(sl => sl.LogRecords).ToList();
        Assert.Equal(2, records.Count);
        var warning = records.Single(r => r.SeverityNumber == OtelAi.Otlp.Proto.Logs.V1.SeverityNumber.Warn);
        Assert.Equal("model {Model} answered in {LatencyMs} ms", warning.Body.StringValue);
        AssertAttribute(warning.Attributes, "Model", "llama-3");
        Assert.Equal(412, Find(warning.Attributes, "LatencyMs").IntValue);
        Assert.Equal(traceId.ToHexString(), Convert.ToHexStringLower(warning.TraceId.Span));
        Assert.Equal(spanId.ToHexString(), Convert.ToHexStringLower(warning.SpanId.Span));
        Assert.NotEqual(0UL, warning.TimeUnixNano);
        var info = records.Single(r => r.SeverityNumber == OtelAi.Otlp.Proto.Logs.V1.SeverityNumber.Info);
        Assert.Equal("plain message", info.Body.StringValue);
        Assert.True(info.TraceId.IsEmpty);
        var transport = protocol == OtlpExportProtocol.Grpc ? "grpc" : "http";
        Assert.Equal(2, harness.Counter("otelcol_receiver_accepted_log_records", transport));
    }

    internal static AnyValue Find(IEnumerable<KeyValue> attributes, string key) =>
        attributes.FirstOrDefault(a => a.Key == key)?.Value ?? throw new Xunit.Sdk.XunitException($"attribute {key} missing");

    internal static void AssertAttribute(IEnumerable<KeyValue> attributes, string key, string value) =>
        Assert.Equal(value, Find(attributes, key).StringValue);
}
