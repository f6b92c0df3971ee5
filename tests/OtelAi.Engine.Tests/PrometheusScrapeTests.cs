using System.Diagnostics;
using System.Text.Json;
using OtelAi.Engine.Config;
using OtelAi.TestSupport;

namespace OtelAi.Engine.Tests;

/// <summary>
/// A real Prometheus server (Debian's prometheus 2.42, installed by test.sh) scrapes the engine's self-telemetry
/// endpoint: proves the exposition format, names and labels are what Prometheus itself accepts, not just what we parse.
/// </summary>
public sealed class PrometheusScrapeTests : IDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly Harness _h = new();
    private readonly string _directory = Directory.CreateTempSubdirectory("otelai-prom-").FullName;

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

        var prometheusPort = TestPorts.GetFree();
        File.WriteAllText(Path.Combine(_directory, "prometheus.yml"), $"""
            global:
              scrape_interval: 1s
            scrape_configs:
              - job_name: otelai
                static_configs:
                  - targets: ["127.0.0.1:{collector.MetricsPort}"]
            """);
        using var prometheus = Process.Start(new ProcessStartInfo("prometheus",
            [$"--config.file={Path.Combine(_directory, "prometheus.yml")}", $"--storage.tsdb.path={Path.Combine(_directory, "data")}",
             $"--web.listen-address=127.0.0.1:{prometheusPort}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        }) ?? throw new InvalidOperationException("cannot start prometheus (test.sh installs it)");
        prometheus.OutputDataReceived += (_, _) => { };
        prometheus.ErrorDataReceived += (_, _) => { };
        prometheus.BeginOutputReadLine();
        prometheus.BeginErrorReadLine();
        try
        {
            var accepted = await QueryUntilPresentAsync(prometheusPort, "otelcol_receiver_accepted_spans_total");
            Assert.Equal("testrecv", accepted.GetProperty("metric").GetProperty("receiver").GetString());
            Assert.Equal("test", accepted.GetProperty("metric").GetProperty("transport").GetString());
            Assert.Equal("12", accepted.GetProperty("value")[1].GetString());

            var up = await QueryUntilPresentAsync(prometheusPort, "up{job=\"otelai\"}");
            Assert.Equal("1", up.GetProperty("value")[1].GetString());

            var rss = await QueryUntilPresentAsync(prometheusPort, "otelcol_process_memory_rss");
            Assert.True(double.Parse(rss.GetProperty("value")[1].GetString()!, System.Globalization.CultureInfo.InvariantCulture) > 0);
        }
        finally
        {
            prometheus.Kill(entireProcessTree: true);
            await prometheus.WaitForExitAsync();
            await collector.StopAsync();
        }
    }

    /// <summary>The first series of an instant query, polled until the scrape has landed (up to 60 s on a loaded machine).</summary>
    private static async Task<JsonElement> QueryUntilPresentAsync(int port, string query)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        string last = "no answer";
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                var json = await Http.GetStringAsync($"http://127.0.0.1:{port}/api/v1/query?query={Uri.EscapeDataString(query)}");
                last = json;
                var result = JsonDocument.Parse(json).RootElement.GetProperty("data").GetProperty("result");
                if (result.GetArrayLength() > 0) return result[0].Clone();
            }
            catch (HttpRequestException ex)
            {
                last = ex.Message; // Prometheus is still starting
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"Prometheus never returned {query}; last answer: {last}");
    }

    public void Dispose()
    {
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }
}
