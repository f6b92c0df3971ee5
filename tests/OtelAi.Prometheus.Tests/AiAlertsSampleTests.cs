using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using OtelAi.Engine;
using OtelAi.Otlp;
using OtelAi.Otlp.Hosting;
using OtelAi.TestSupport;

namespace OtelAi.Prometheus.Tests;

/// <summary>
/// config-samples/ai-alerts.yaml with every duration divided by ten (60 s windows become 6 s; nothing else changed),
/// fed by the .NET OpenTelemetry SDK and a scripted DCGM exporter, alerting a real Alertmanager: a degrading latency
/// on one model (fourfold at once, then doubling every window for 8 s, with one request over 3 s) and a memory ramp on
/// one GPU raise the playbook's alerts, nothing fires for the other model or GPU, and everything resolves when the
/// degradation and the ramp are over. The alert log records reach the OTLP backend.
/// </summary>
public sealed class AiAlertsSampleTests
{
    private static readonly Regex Duration = new(@"^(\s*-?\s*(?:window|step|for|scrape_interval|resend_interval):\s*)(\d+)(ms|s|m)\b", RegexOptions.Multiline);

    /// <summary>The sample's text with every duration a tenth as long.</summary>
    internal static string TenTimesFaster(string yaml) => Duration.Replace(yaml, match =>
    {
        var milliseconds = int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture) * match.Groups[3].Value switch { "m" => 60_000, "s" => 1000, _ => 1 } / 10;
        return match.Groups[1].Value + (milliseconds % 1000 == 0 ? $"{milliseconds / 1000}s" : $"{milliseconds}ms");
    });

    [Fact]
    public void Every_duration_of_the_sample_is_scaled()
    {
        var scaled = TenTimesFaster(File.ReadAllText(RepositoryPaths.Combine("config-samples", "ai-alerts.yaml")));
        Assert.Equal(["100ms", "6s", "500ms", "6s", "18s", "6s", "500ms", "100ms", "6s"],
            Duration.Matches(scaled).Select(m => m.Groups[2].Value + m.Groups[3].Value));
    }

    [Fact]
    public async Task The_playbook_alerts_fire_for_the_affected_model_and_GPU_only_and_resolve()
    {
        using var alertmanager = new AlertmanagerServer();
        var gpu0 = 40_000.0;
        var rampStart = long.MaxValue;
        await using var dcgm = await ServerHost.StartAsync("127.0.0.1:0", context =>
        {
            // GPU 0 ramps at 7 GB/s from 40 GB to 75 GB once the test starts the ramp; GPU 1 stays flat.
            var since = Stopwatch.GetElapsedTime(Interlocked.Read(ref rampStart)).TotalSeconds;
            var value = Volatile.Read(ref gpu0) + (since > 0 ? Math.Min(35_000, since * 7000) : 0);
            return context.Response.WriteAsync($"""
                # TYPE DCGM_FI_DEV_FB_USED gauge
                DCGM_FI_DEV_FB_USED{'{'}gpu="0",Hostname="gpu-node-1"{'}'} {value.ToString(CultureInfo.InvariantCulture)}
                DCGM_FI_DEV_FB_USED{'{'}gpu="1",Hostname="gpu-node-1"{'}'} 30000

                """);
        }, ServerHostSetup.Http1, CancellationToken.None);

        var backendPort = TestPorts.GetFree();
        var capture = new CaptureExporterFactory();
        await using var backend = Collector.FromYaml($$"""
            receivers:
              otlp:
                protocols:
                  grpc:
                    endpoint: 127.0.0.1:{{backendPort}}
            exporters:
              capture:
            service:
              telemetry:
                metrics:
                  level: none
              pipelines:
                logs:
                  receivers: [otlp]
                  exporters: [capture]
                metrics:
                  receivers: [otlp]
                  exporters: [capture]
            """, capture.WithBuiltins(), new CollectorOptions { LoggerFactory = NullLoggerFactory.Instance });
        await backend.StartAsync();

        var otlpPort = TestPorts.GetFree();
        var environment = new Dictionary<string, string>
        {
            ["OTLP_GRPC_ENDPOINT"] = "127.0.0.1:0",
            ["OTLP_HTTP_ENDPOINT"] = $"127.0.0.1:{otlpPort}",
            ["DCGM_TARGET"] = $"127.0.0.1:{dcgm.Port}",
            ["ALERTMANAGER_URL"] = alertmanager.Url,
            ["OTLP_BACKEND"] = $"127.0.0.1:{backendPort}",
        };
        var sample = TenTimesFaster(File.ReadAllText(RepositoryPaths.Combine("config-samples", "ai-alerts.yaml")));
        await using var engine = Collector.FromYaml(sample, new CaptureExporterFactory().WithBuiltins(),
            new CollectorOptions { LoggerFactory = NullLoggerFactory.Instance }, ["service.telemetry.metrics.level=none"], environment.GetValueOrDefault);
        await engine.StartAsync();

        using var source = new ActivitySource("otelai.tests.ai-alerts-sample");
        using var tracing = Sdk.CreateTracerProviderBuilder()
            .AddSource(source.Name)
            .SetResourceBuilder(ResourceBuilder.CreateEmpty().AddService("triton"))
            .AddOtlpExporter(options =>
            {
                options.Endpoint = new Uri($"http://127.0.0.1:{otlpPort}/v1/traces");
                options.Protocol = OtlpExportProtocol.HttpProtobuf;
                options.BatchExportProcessorOptions.ScheduledDelayMilliseconds = 100;
            })
            .Build();
        var degradationStart = long.MaxValue;
        double LlamaLatencyMs(int i)
        {
            var since = Stopwatch.GetElapsedTime(Interlocked.Read(ref degradationStart)).TotalSeconds;
            return since is > 0 and < 8 ? 400 * Math.Pow(2, since / 6) : 100 + i;
        }
        void Request(string model, double milliseconds)
        {
            var end = DateTimeOffset.UtcNow;
            using var activity = source.StartActivity("infer", ActivityKind.Server, default(ActivityContext),
                [new("model_id", model), new("model_version", "v1")], startTime: end.AddMilliseconds(-milliseconds));
            activity?.SetEndTime(end.UtcDateTime);
        }
        using var stop = new CancellationTokenSource();
        var traffic = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                for (var i = 0; i < 5; i++)
                {
                    Request("llama", LlamaLatencyMs(i));
                    Request("mistral", 80 + i);
                }
                await Task.Delay(50);
            }
        });

        var seen = new HashSet<(string Alert, string Severity, string Subject)>();
        bool Seen(JsonElement[] alerts, params (string Alert, string Severity, string Subject)[] expected)
        {
            foreach (var alert in alerts)
                seen.Add((Label(alert, "alertname")!, Label(alert, "severity")!, Label(alert, "model_id") ?? $"gpu{Label(alert, "gpu")}"));
            return expected.All(seen.Contains);
        }
        try
        {
            // Two windows of steady traffic make the baseline; then the ramp on GPU 0 and the degradation on llama.
            await Task.Delay(TimeSpan.FromSeconds(13));
            Interlocked.Exchange(ref rampStart, Stopwatch.GetTimestamp());
            Interlocked.Exchange(ref degradationStart, Stopwatch.GetTimestamp());
            Request("llama", 3500);
            await alertmanager.AlertsUntilAsync(alerts => Seen(alerts,
                ("latency_p95_doubled", "critical", "llama"), ("latency_p95_regression", "warning", "llama"), ("slow_request", "critical", "llama"),
                ("gpu_memory_burst", "critical", "gpu0"), ("gpu_memory_high", "warning", "gpu0")));

            // GPU 0 falls back (llama recovered after 8 s): every alert resolves (Alertmanager lists none).
            Interlocked.Exchange(ref rampStart, long.MaxValue);
            await alertmanager.AlertsUntilAsync(alerts => Seen(alerts) && alerts.Length == 0);
        }
        finally
        {
            await stop.CancelAsync();
            await traffic;
            await engine.StopAsync();
            await backend.StopAsync();
        }

        Assert.DoesNotContain(seen, alert => alert.Subject is "mistral" or "gpu1");
        Assert.DoesNotContain(seen, alert => alert.Alert is "gpu_memory_jump" or "gpu_memory_rising"); // silent building blocks
        var records = capture.Logs.Payloads.SelectMany(r => r.ResourceLogs).SelectMany(r => r.ScopeLogs).SelectMany(s => s.LogRecords)
            .Select(r => (Rule: r.Attributes.Get("alert.rule")!.AsString(), State: r.Attributes.Get("alert.state")!.AsString())).ToList();
        foreach (var rule in new[] { "latency_p95_doubled", "slow_request", "gpu_memory_burst", "gpu_memory_high" })
        {
            Assert.Contains((rule, "firing"), records);
            Assert.Contains((rule, "resolved"), records);
        }
    }

    private static string? Label(JsonElement alert, string name) =>
        alert.GetProperty("labels").TryGetProperty(name, out var value) ? value.GetString() : null;
}
