using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Microsoft.AspNetCore.Hosting;
using Status = OtelAi.Otlp.Proto.Trace.V1.Status;
using Span = OtelAi.Otlp.Proto.Trace.V1.Span;
using OtelAi.Engine;
using OtelAi.Otlp.Proto.Trace.V1;
using OtelAi.TestSupport;

namespace OtelAi.Hosting.Tests;

/// <summary>
/// A minimal-API "inference service" that embeds otelai as its users would: the collector from the app's
/// configuration (aiattributes and tail sampling in process, OTLP out), the app's OpenTelemetry SDK feeding it without
/// a network hop, an ASP.NET Core health check on it; run over real HTTP, with a real OTLP backend (a second collector).
/// </summary>
public sealed class EmbeddedInferenceServiceTests
{
    /// <summary>The sample service (what the README's embedding section shows), listening on <paramref name="url"/>.</summary>
    internal static WebApplication BuildService(string url, IDictionary<string, string?> collectorConfig)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(url);
        builder.Configuration.AddInMemoryCollection(collectorConfig);
        builder.Logging.ClearProviders();

        builder.Services.AddOtelAiCollector(builder.Configuration.GetSection("otelai"));
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("inference-api", serviceInstanceId: "pod-1"))
            .WithTracing(tracing => tracing.AddAspNetCoreInstrumentation().AddOtelAiExporter())
            .WithLogging(logging => logging.AddOtelAiExporter());
        builder.Services.AddHealthChecks().AddOtelAiHealthCheck();

        var app = builder.Build();
        app.MapHealthChecks("/healthz");
        app.MapPost("/v1/chat/completions", (ChatRequest request, ILogger<ChatRequest> logger) =>
        {
            var span = Activity.Current;
            span?.SetTag("gen_ai.request.model", request.Model);
            span?.SetTag("gen_ai.usage.input_tokens", request.Prompt.Length);
            logger.LogInformation("chat completion for {Model}", request.Model);
            return request.Fail ? Results.StatusCode(500) : Results.Ok(new { choices = new[] { new { text = "ok" } } });
        });
        return app;
    }

    internal sealed record ChatRequest(string Model, string Prompt, bool Fail);

    [Fact]
    public async Task Embedded_collector_samples_enriches_and_exports_the_apps_telemetry_and_reports_health()
    {
        // The backend the embedded collector exports to: a collector with an otlp receiver and a capture exporter.
        var backendPort = TestPorts.GetFree();
        var capture = new CaptureExporterFactory();
        await using var backend = await capture.StartOtlpBackendAsync(backendPort, "traces", "logs");

        var config = new Dictionary<string, string?>
        {
            ["otelai:receivers:inprocess"] = null,
            ["otelai:processors:aiattributes"] = null,
            ["otelai:processors:tail_sampling:decision_wait"] = "500ms",
            ["otelai:processors:tail_sampling:policies:0:name"] = "failed-inferences",
            ["otelai:processors:tail_sampling:policies:0:type"] = "status_code",
            ["otelai:processors:tail_sampling:policies:0:status_code:status_codes:0"] = "ERROR",
            ["otelai:processors:batch:timeout"] = "100ms",
            ["otelai:exporters:otlp:endpoint"] = $"127.0.0.1:{backendPort}",
            ["otelai:exporters:otlp:tls:insecure"] = "true",
            ["otelai:service:pipelines:traces:receivers:0"] = "inprocess",
            ["otelai:service:pipelines:traces:processors:0"] = "aiattributes",
            ["otelai:service:pipelines:traces:processors:1"] = "tail_sampling",
            ["otelai:service:pipelines:traces:exporters:0"] = "otlp",
            ["otelai:service:pipelines:logs:receivers:0"] = "inprocess",
            ["otelai:service:pipelines:logs:processors:0"] = "batch",
            ["otelai:service:pipelines:logs:exporters:0"] = "otlp",
        };
        var port = TestPorts.GetFree();
        await using var app = BuildService($"http://127.0.0.1:{port}", config);
        await app.StartAsync();
        var collector = app.Services.GetRequiredService<Collector>();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        Assert.Equal(CollectorState.Running, collector.State);
        Assert.Null(collector.MetricsPort); // an embedded collector opens no port it was not asked for
        var health = await http.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("Healthy", await health.Content.ReadAsStringAsync());

        foreach (var (model, fail) in new[] { ("llama-3", false), ("llama-3", true), ("mistral", false), ("mistral", true), ("llama-3", false) })
        {
            var response = await http.PostAsJsonAsync("/v1/chat/completions", new ChatRequest(model, "Why is the sky blue?", fail));
            Assert.Equal(fail ? HttpStatusCode.InternalServerError : HttpStatusCode.OK, response.StatusCode);
        }

        // The SDK's batch processor exports every 5 s: stopping the host flushes it into the collector before the
        // collector drains, so nothing recorded before the stop is lost (tail sampling decides pending traces at shutdown).
        await app.StopAsync();
        Assert.Equal(CollectorState.Stopped, collector.State);

        await capture.Traces.WaitForItemsAsync(2, TimeSpan.FromSeconds(30));
        var spans = capture.Traces.Payloads.SelectMany(r => r.ResourceSpans).SelectMany(rs => rs.ScopeSpans.SelectMany(ss => ss.Spans.Select(span => (rs.Resource, span)))).ToList();
        Assert.Equal(2, spans.Count); // the two failed inferences; the successful ones were not sampled
        Assert.All(spans, s =>
        {
            Assert.Equal(Status.Types.StatusCode.Error, s.span.Status.Code);
            Assert.Equal(Span.Types.SpanKind.Server, s.span.Kind);
            Assert.Contains(s.Resource.Attributes, a => a.Key == "service.name" && a.Value.StringValue == "inference-api");
            Assert.Contains(s.span.Attributes, a => a.Key == "http.route" && a.Value.StringValue == "/v1/chat/completions");
            // aiattributes ran in process: the model id and inference time are on the kept spans.
            Assert.Contains(s.span.Attributes, a => a.Key == "model_id");
            Assert.Contains(s.span.Attributes, a => a.Key == "inference_time");
        });
        Assert.Equal(["llama-3", "mistral"], spans.Select(s => s.span.Attributes.First(a => a.Key == "model_id").Value.StringValue).Order());

        await capture.Logs.WaitForItemsAsync(5, TimeSpan.FromSeconds(30));
        var scopes = capture.Logs.Payloads.SelectMany(r => r.ResourceLogs).SelectMany(rl => rl.ScopeLogs).ToList();
        var records = scopes.Where(sl => sl.Scope.Name.Contains(nameof(ChatRequest), StringComparison.Ordinal)).SelectMany(sl => sl.LogRecords).ToList();
        Assert.Equal(5, records.Count(r => r.Body.StringValue == "chat completion for {Model}"));
        Assert.All(records, r => Assert.Equal(16, r.TraceId.Length));
        // The collector's own log lines are not fed back into its pipelines.
        Assert.DoesNotContain(scopes, sl => sl.Scope.Name.StartsWith(OtelAiServiceCollectionExtensions.LogCategoryPrefix, StringComparison.Ordinal));
    }
}
