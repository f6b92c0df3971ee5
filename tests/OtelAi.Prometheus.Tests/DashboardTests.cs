using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using OtelAi.Otlp.Hosting;
using OtelAi.TestSupport;

namespace OtelAi.Prometheus.Tests;

/// <summary>
/// config-samples/prometheus.yaml as shipped, run by the otelai executable with real inference-shaped traffic and a
/// scripted DCGM/vLLM target, scraped by a real Prometheus: every PromQL query of the Grafana dashboard
/// (config-samples/grafana/inference-red.json), template variables included, must return series.
/// </summary>
[Trait(OtelaiProcess.Trait, OtelaiProcess.Executable)]
public sealed class DashboardTests
{
    private const string GpuTarget = """
        # TYPE DCGM_FI_DEV_FB_USED gauge
        DCGM_FI_DEV_FB_USED{gpu="0",UUID="GPU-8f6e4f2a",modelName="NVIDIA A100-SXM4-80GB",Hostname="gpu-node-1"} 40512
        # TYPE vllm:num_requests_running gauge
        vllm:num_requests_running{model_name="llama-3"} 2
        """;

    [Fact]
    public async Task Every_dashboard_query_returns_series_from_the_sample_pipeline()
    {
        await using var target = await ServerHost.StartAsync("127.0.0.1:0", context => context.Response.WriteAsync(GpuTarget), ServerHostSetup.Http1, CancellationToken.None);
        var otlpPort = TestPorts.GetFree();
        var exporterPort = TestPorts.GetFree();
        using var prometheus = PrometheusServer.Start($"""
              - job_name: otelai
                honor_labels: true
                static_configs:
                  - targets: ["127.0.0.1:{exporterPort}"]
            """);
        using var remoteWrite = PrometheusServer.Start();
        using var engine = OtelaiProcess.Start(new Dictionary<string, string>
        {
            ["OTLP_GRPC_ENDPOINT"] = "127.0.0.1:0",
            ["OTLP_HTTP_ENDPOINT"] = $"127.0.0.1:{otlpPort}",
            ["SCRAPE_INTERVAL"] = "1s",
            ["DCGM_TARGET"] = $"127.0.0.1:{target.Port}",
            ["VLLM_TARGET"] = $"127.0.0.1:{target.Port}",
            ["SPANMETRICS_FLUSH_INTERVAL"] = "1s",
            ["PROMETHEUS_EXPORTER_ENDPOINT"] = $"127.0.0.1:{exporterPort}",
            ["REMOTE_WRITE_URL"] = remoteWrite.RemoteWriteUrl,
        }, "--config", RepositoryPaths.Combine("config-samples", "prometheus.yaml"), "--set", "service.telemetry.metrics.level=none");
        engine.WaitUntilListening(exporterPort, otlpPort);

        // Two instances serving two models on two routes, with failures; sent twice so rates have two points.
        for (var round = 0; round < 2; round++)
        {
            foreach (var instance in new[] { "pod-1", "pod-2" }) SendInferenceSpans(otlpPort, instance);
            await Task.Delay(TimeSpan.FromSeconds(2.5));
        }

        var dashboard = JsonDocument.Parse(File.ReadAllText(RepositoryPaths.Combine("config-samples", "grafana", "inference-red.json"))).RootElement;
        var queries = new List<string>();
        foreach (var variable in dashboard.GetProperty("templating").GetProperty("list").EnumerateArray())
            if (variable.GetProperty("type").GetString() == "query") queries.Add(LabelValuesAsPromQl(variable.GetProperty("query").GetProperty("query").GetString()!));
        foreach (var panel in dashboard.GetProperty("panels").EnumerateArray())
            foreach (var query in panel.GetProperty("targets").EnumerateArray()) queries.Add(query.GetProperty("expr").GetString()!);
        Assert.True(queries.Count >= 10, $"only {queries.Count} queries found in the dashboard");

        foreach (var query in queries)
        {
            var promQl = Regex.Replace(query.Replace("$__rate_interval", "1m"), @"\$(model_id|model_version|route|instance)\b", ".*");
            var series = await prometheus.QueryUntilPresentAsync(promQl);
            Assert.NotEmpty(series);
        }
        // The instance variable lists the services' instances (honor_labels keeps them), not the exporter's address.
        var instances = await prometheus.QueryUntilPresentAsync("count by (instance) (traces_span_metrics_calls_total)");
        Assert.Equal(["pod-1", "pod-2"], instances.Select(s => PrometheusServer.Label(s, "instance")).Order());

        // The same RED series went out by remote write too, with the external label.
        var pushed = await remoteWrite.QueryUntilPresentAsync("traces_span_metrics_calls_total{model_id=\"llama-3\",collector=\"otelai\"}");
        Assert.NotEmpty(pushed);
        Assert.False(engine.HasExited, engine.Output);
    }

    /// <summary>label_values(selector, label) as the PromQL that returns one series per value.</summary>
    private static string LabelValuesAsPromQl(string query)
    {
        var match = Regex.Match(query, @"^label_values\((?<selector>.+),\s*(?<label>\w+)\)$");
        Assert.True(match.Success, $"unexpected variable query {query}");
        return $"count by ({match.Groups["label"].Value}) ({match.Groups["selector"].Value})";
    }

    private static void SendInferenceSpans(int otlpPort, string instance)
    {
        // A source of this test's own: a provider listens to every source of the name, in any test running alongside.
        using var source = new ActivitySource("dashboard-test-" + Guid.NewGuid().ToString("N"));
        using var provider = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(ResourceBuilder.CreateEmpty().AddService("chat-api", "ai", serviceInstanceId: instance))
            .AddSource(source.Name)
            .AddOtlpExporter(o =>
            {
                o.Endpoint = new Uri($"http://127.0.0.1:{otlpPort}/v1/traces");
                o.Protocol = OtlpExportProtocol.HttpProtobuf;
            })
            .Build();
        var start = DateTimeOffset.UtcNow.AddSeconds(-1);
        foreach (var (model, version, route, millis, failed) in new[]
                 {
                     ("llama-3", "8b-instruct-v2", "/v1/chat/completions", 180, false),
                     ("llama-3", "8b-instruct-v2", "/v1/chat/completions", 2400, true),
                     ("mistral", "7b-v0.3", "/v1/chat/completions", 90, false),
                     ("bge-large", "1.5", "/v1/embeddings", 12, false),
                 })
        {
            using var activity = source.StartActivity("POST " + route, ActivityKind.Server, default(ActivityContext), startTime: start)!;
            activity.SetTag("model_id", model);
            activity.SetTag("model_version", version);
            activity.SetTag("http.route", route);
            if (failed) activity.SetStatus(ActivityStatusCode.Error);
            activity.SetEndTime(start.AddMilliseconds(millis).UtcDateTime);
        }
        Assert.True(provider.ForceFlush(30_000));
    }
}
