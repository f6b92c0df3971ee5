using System.Text.Json;
using Google.Protobuf;
using OtelAi.Engine;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Otlp.Proto.Trace.V1;
using OtelAi.TestSupport;
using static OtelAi.TestSupport.SampleData;

namespace OtelAi.Processors.Tests;

/// <summary>
/// The anomaly connector from YAML in a running collector, fed OTLP over HTTP, alerting a real Alertmanager: a
/// latency spike on one model fires a critical alert that Alertmanager lists with our labels, the alert log record
/// reaches the logs pipeline, and the alert resolves in both when the spike stops. The other model stays quiet.
/// </summary>
public sealed class AnomalyEndToEndTests
{
    [Fact]
    public async Task A_latency_spike_fires_in_Alertmanager_and_resolves()
    {
        using var alertmanager = new AlertmanagerServer();
        var otlpPort = TestPorts.GetFree();
        var capture = new CaptureExporterFactory();
        await using var collector = Collector.FromYaml($$"""
            receivers:
              otlp:
                protocols:
                  http:
                    endpoint: 127.0.0.1:{{otlpPort}}
            connectors:
              anomaly:
                window: 2s
                step: 1s
                series:
                  - name: latency
                    source: span_duration
                    group_by: [model_id]
                rules:
                  - name: slow_inference
                    series: latency
                    statistic: max
                    detector: threshold
                    above: 3000
                    level: CRIT
                alertmanager:
                  endpoint: {{alertmanager.Url}}
                  resend_interval: 1s
                  labels: {cluster: test}
            exporters:
              capture:
            service:
              telemetry:
                metrics:
                  level: none
              pipelines:
                traces:
                  receivers: [otlp]
                  exporters: [anomaly]
                logs:
                  receivers: [anomaly]
                  exporters: [capture]
                metrics:
                  receivers: [anomaly]
                  exporters: [capture]
            """, capture.WithBuiltins(), new CollectorOptions { LoggerFactory = Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance });
        await collector.StartAsync();
        using var http = new HttpClient();
        async Task SendAsync(string model, double ms)
        {
            var span = new Span
            {
                TraceId = ByteString.CopyFrom(Guid.NewGuid().ToByteArray()), SpanId = ByteString.CopyFrom(BitConverter.GetBytes(Random.Shared.NextInt64())),
                Name = "infer", StartTimeUnixNano = 1_000_000_000, EndTimeUnixNano = 1_000_000_000 + (ulong)(ms * 1e6), Attributes = { Attr("model_id", model) },
            };
            var request = new ExportTraceServiceRequest { ResourceSpans = { new ResourceSpans { Resource = Resource("triton"), ScopeSpans = { new ScopeSpans { Spans = { span } } } } } };
            using var content = new ByteArrayContent(request.ToByteArray());
            content.Headers.ContentType = new("application/x-protobuf");
            (await http.PostAsync($"http://127.0.0.1:{otlpPort}/v1/traces", content)).EnsureSuccessStatusCode();
        }

        using var traffic = new CancellationTokenSource();
        var spike = true;
        var sender = Task.Run(async () =>
        {
            while (!traffic.IsCancellationRequested)
            {
                await SendAsync("llama", spike ? 4000 : 100);
                await SendAsync("mistral", 90);
                await Task.Delay(200);
            }
        });
        try
        {
            var firing = await alertmanager.AlertsUntilAsync(alerts => alerts.Any(a => Label(a, "alertname") == "slow_inference"));
            var alert = Assert.Single(firing);
            Assert.Equal(("llama", "critical", "test"), (Label(alert, "model_id"), Label(alert, "severity"), Label(alert, "cluster")));
            Assert.Contains("max of latency is", alert.GetProperty("annotations").GetProperty("summary").GetString());

            spike = false;
            await alertmanager.AlertsUntilAsync(alerts => alerts.Length == 0);
        }
        finally
        {
            await traffic.CancelAsync();
            await sender;
            await collector.StopAsync();
        }

        var records = capture.Logs.Payloads.SelectMany(r => r.ResourceLogs).SelectMany(r => r.ScopeLogs).SelectMany(s => s.LogRecords).ToList();
        Assert.Equal(["firing", "resolved"], records.Select(r => r.Attributes.Get("alert.state").AsString()));
        Assert.All(records, r => Assert.Equal("llama", r.Attributes.Get("model_id").AsString()));
        Assert.Contains(capture.Metrics.Payloads.SelectMany(r => r.ResourceMetrics).SelectMany(r => r.ScopeMetrics).SelectMany(s => s.Metrics),
            m => m.Name == "otelai.alert.active" && m.Gauge.DataPoints.Any(p => p.AsInt == 1));
    }

    private static string? Label(JsonElement alert, string name) =>
        alert.GetProperty("labels").TryGetProperty(name, out var value) ? value.GetString() : null;
}
