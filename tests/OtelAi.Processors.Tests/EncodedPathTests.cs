using System.Buffers;
using System.Net.Http.Headers;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using OtelAi.Engine;
using OtelAi.Otlp;
using OtelAi.Otlp.Json;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.TestSupport;

namespace OtelAi.Processors.Tests;

/// <summary>
/// The payload model end to end: requests posted to a running collector's otlp receiver go through batch (with
/// splits) undecoded when no pipeline behind the receiver reads content (metrics, logs), and are decoded once at the
/// receiver when one does (traces, where a resource-editing pipeline sits beside the plain one, which must not see its
/// edits). Either way what comes out is byte for byte what the decoded path gives, and a JSON request merges in.
/// </summary>
public sealed class EncodedPathTests
{
    private const int BatchMax = 7;

    [Fact]
    public async Task Batched_encoded_payloads_equal_the_decoded_path_byte_for_byte_beside_a_mutating_pipeline()
    {
        var port = TestPorts.GetFree();
        var plain = new CaptureExporterFactory("capture");
        var tagged = new CaptureExporterFactory("capture_tagged");
        var yaml = $$"""
            receivers:
              otlp:
                protocols:
                  http: { endpoint: "127.0.0.1:{{port}}" }
            processors:
              memory_limiter: { check_interval: 1s, limit_mib: 4000 }
              batch: { send_batch_size: {{BatchMax}}, send_batch_max_size: {{BatchMax}}, timeout: 100ms }
              resource:
                attributes: [ { key: otelai.copy, value: tagged, action: insert } ]
            exporters:
              capture: {}
              capture_tagged: {}
            service:
              telemetry: { metrics: { level: none } }
              pipelines:
                traces:  { receivers: [otlp], processors: [memory_limiter, batch], exporters: [capture] }
                metrics: { receivers: [otlp], processors: [memory_limiter, batch], exporters: [capture] }
                logs:    { receivers: [otlp], processors: [memory_limiter, batch], exporters: [capture] }
                traces/tagged: { receivers: [otlp], processors: [resource], exporters: [capture_tagged] }
            """;
        var registry = plain.WithBuiltins().Add(tagged);
        await using var collector = Collector.FromYaml(yaml, registry, new CollectorOptions { LoggerFactory = NullLoggerFactory.Instance });
        await collector.StartAsync();

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        var traces = Enumerable.Range(1, 5).Select(i => SampleData.Traces(i + 1, $"svc-{i}", seed: i)).ToList();
        var metrics = Enumerable.Range(1, 4).Select(i => SampleData.Metrics(i * 2, $"svc-{i}")).ToList();
        var logs = Enumerable.Range(1, 4).Select(i => SampleData.Logs(i + 2, $"svc-{i}")).ToList();
        for (var i = 0; i < traces.Count; i++)
        {
            // One request in the middle arrives as OTLP/JSON: decoded at the receiver, merged with encoded neighbours.
            if (i == 2) await PostAsync(http, "v1/traces", OtlpJson.ToJson(traces[i]), "application/json");
            else await PostAsync(http, "v1/traces", traces[i].ToByteArray(), "application/x-protobuf");
        }
        foreach (var m in metrics) await PostAsync(http, "v1/metrics", m.ToByteArray(), "application/x-protobuf");
        foreach (var l in logs) await PostAsync(http, "v1/logs", l.ToByteArray(), "application/x-protobuf");

        await plain.Traces.WaitForItemsAsync(traces.Sum(OtlpSignal<ExportTraceServiceRequest>.Instance.CountItems));
        await plain.Metrics.WaitForItemsAsync(metrics.Sum(OtlpSignal<ExportMetricsServiceRequest>.Instance.CountItems));
        await plain.Logs.WaitForItemsAsync(logs.Sum(OtlpSignal<ExportLogsServiceRequest>.Instance.CountItems));
        await tagged.Traces.WaitForItemsAsync(traces.Sum(OtlpSignal<ExportTraceServiceRequest>.Instance.CountItems));

        AssertSameAsDecodedPath(traces, plain.Traces, expectEncoded: false);
        AssertSameAsDecodedPath(metrics, plain.Metrics, expectEncoded: true);
        AssertSameAsDecodedPath(logs, plain.Logs, expectEncoded: true);

        // The mutating pipeline changed its own copy only.
        Assert.All(tagged.Traces.Payloads.SelectMany(p => p.ResourceSpans),
            rs => Assert.Contains(rs.Resource.Attributes, a => a.Key == "otelai.copy"));
        Assert.All(plain.Traces.Payloads.SelectMany(p => p.ResourceSpans),
            rs => Assert.DoesNotContain(rs.Resource.Attributes, a => a.Key == "otelai.copy"));
    }

    /// <summary>
    /// What arrived equals the decoded path: the same requests as messages, joined and cut into batches of at most
    /// <see cref="BatchMax"/> items in the order batch received them.
    /// </summary>
    private static void AssertSameAsDecodedPath<T>(List<T> sent, Sink<T> sink, bool expectEncoded) where T : class, IMessage<T>, new()
    {
        var arrived = sink.Arrived;
        Assert.All(arrived, p => Assert.InRange(p.ItemCount, 1, BatchMax));
        Assert.All(arrived, p => Assert.Equal(expectEncoded, p.IsEncoded));

        var expected = Payload<T>.Concat(sent.Select(m => Payload<T>.FromMessage(m.Clone())).ToList());
        foreach (var payload in arrived)
        {
            var head = expected.SplitOff(payload.ItemCount);
            Assert.Equal(Written(head), Written(payload));
        }
        Assert.Equal(0, expected.ItemCount);
    }

    private static byte[] Written<T>(Payload<T> payload) where T : class, IMessage<T>, new()
    {
        var writer = new ArrayBufferWriter<byte>();
        payload.WriteTo(writer);
        return writer.WrittenSpan.ToArray();
    }

    private static async Task PostAsync(HttpClient http, string path, byte[] body, string contentType)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        using var response = await http.PostAsync(path, content);
        response.EnsureSuccessStatusCode();
    }

    private static Task PostAsync(HttpClient http, string path, string json, string contentType) =>
        PostAsync(http, path, System.Text.Encoding.UTF8.GetBytes(json), contentType);
}
