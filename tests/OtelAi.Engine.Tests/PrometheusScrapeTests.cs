using OtelAi.Engine.Config;
using OtelAi.TestSupport;

namespace OtelAi.Engine.Tests;

/// <summary>
/// A real Prometheus server (Debian's prometheus 2.42, installed by test.sh) scrapes the engine's self-telemetry
/// endpoint: proves the exposition format, names and labels are what Prometheus itself accepts, not just what we parse.
/// </summary>
public sealed class PrometheusScrapeTests
{
    private readonly Harness _h = new();

    [Fact]
    public async Task Prometheus_scrapes_self_metrics_with_otelcol_names_and_component_labels()
    {
        await using var collector = _h.Builder()
            .WithTelemetry(new TelemetryConfig { Metrics = new TelemetryMetricsConfig { Level = "normal", Address = "127.0.0.1:0" } })
            .AddReceiver("testrecv").AddExporter("collect")
            .AddPipeline("traces", receivers: ["testrecv"], exporters: ["collect"])
            .Build(Harness.QuietOptions);
        await collector.StartAsync();
        await Harness.Receiver(collector).SendAsync(SampleData.Traces(12));

        using var prometheus = PrometheusServer.Start($"""
              - job_name: otelai
                static_configs:
                  - targets: ["127.0.0.1:{collector.MetricsPort}"]
            """);
        try
        {
            var accepted = (await prometheus.QueryUntilPresentAsync("otelcol_receiver_accepted_spans_total"))[0];
            Assert.Equal("testrecv", PrometheusServer.Label(accepted, "receiver"));
            Assert.Equal("test", PrometheusServer.Label(accepted, "transport"));
            Assert.Equal(12, PrometheusServer.Value(accepted));

            var up = (await prometheus.QueryUntilPresentAsync("up{job=\"otelai\"}"))[0];
            Assert.Equal(1, PrometheusServer.Value(up));

            var rss = (await prometheus.QueryUntilPresentAsync("otelcol_process_memory_rss"))[0];
            Assert.True(PrometheusServer.Value(rss) > 0);
        }
        finally
        {
            await collector.StopAsync();
        }
    }
}
