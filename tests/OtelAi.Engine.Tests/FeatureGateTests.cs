using System.Net;
using OtelAi.Cli;
using OtelAi.Engine;
using OtelAi.Engine.Components;
using OtelAi.TestSupport;

namespace OtelAi.Engine.Tests;

/// <summary>otelcol's <c>--feature-gates</c>: known gates switch behaviour, unknown ones and impossible switches are refused.</summary>
public sealed class FeatureGateTests
{
    private static readonly FeatureGate Alpha = new("test.alpha", FeatureGateStage.Alpha, "a");
    private static readonly FeatureGate Beta = new("test.beta", FeatureGateStage.Beta, "b");
    private static readonly FeatureGate Stable = new("test.stable", FeatureGateStage.Stable, "s");
    private static readonly FeatureGate Deprecated = new("test.deprecated", FeatureGateStage.Deprecated, "d");

    [Fact]
    public void Flags_switch_alpha_and_beta_gates_as_otelcol_reads_them()
    {
        var gates = new FeatureGates([Alpha, Beta, Stable, Deprecated]);
        Assert.Equal([("test.alpha", false), ("test.beta", true), ("test.deprecated", false), ("test.stable", true)], gates.All.Select(g => (g.Gate.Id, g.Enabled)));
        var notes = gates.Apply("test.alpha,-test.beta,+test.stable,-test.deprecated");
        Assert.True(gates.IsEnabled(Alpha));
        Assert.False(gates.IsEnabled(Beta));
        Assert.Equal(2, notes.Count); // stable and deprecated gates named to no effect
        gates.Apply("-test.alpha");
        Assert.False(gates.IsEnabled(Alpha));
    }

    [Fact]
    public void Every_bad_gate_is_reported_at_once_and_nothing_is_half_applied_silently()
    {
        var gates = new FeatureGates([Alpha, Stable, Deprecated]);
        var error = Assert.Throws<ArgumentException>(() => gates.Apply("nope,-test.stable,test.deprecated,,test.alpha"));
        Assert.Contains("no such feature gate \"nope\"; known gates: test.alpha, test.deprecated, test.stable", error.Message);
        Assert.Contains("feature gate \"test.stable\" is stable, can not be disabled", error.Message);
        Assert.Contains("feature gate \"test.deprecated\" is deprecated, can not be enabled", error.Message);
        Assert.Contains("empty feature gate identifier at index 3", error.Message);
    }

    [Fact]
    public void Registering_a_factory_registers_its_gates_once()
    {
        var registry = BuiltinComponents.CreateRegistry();
        Assert.Contains(registry.FeatureGates.All, g => g.Gate.Id == "processor.tailsamplingprocessor.recordpolicy");
        Assert.Contains(registry.FeatureGates.All, g => g.Gate.Id == "service.AllowNoPipelines");
        Assert.Throws<InvalidOperationException>(() => registry.FeatureGates.Register(FeatureGates.AllowNoPipelines));
    }

    [Fact]
    public async Task The_command_line_sets_gates_refuses_unknown_ones_and_lists_them()
    {
        var file = Path.Combine(Path.GetTempPath(), $"otelai-gates-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(file, """
            extensions:
              health_check:
                endpoint: 127.0.0.1:0
            service:
              extensions: [health_check]
              pipelines: {}
            """);
        try
        {
            var (code, _, error) = await RunAsync("validate", "--config", file);
            Assert.Equal(1, code);
            Assert.Contains("at least one pipeline must be configured (or start with --feature-gates=service.AllowNoPipelines", error);

            (code, var output, _) = await RunAsync("validate", "--config", file, "--feature-gates=service.AllowNoPipelines");
            Assert.Equal((0, "configuration is valid"), (code, output.Trim()));

            (code, _, error) = await RunAsync("validate", "--config", file, "--feature-gates", "+service.AllowNoPipelines,-no.such.gate");
            Assert.Equal(2, code);
            Assert.Contains("--feature-gates: no such feature gate \"no.such.gate\"; known gates: processor.tailsamplingprocessor.recordpolicy, service.AllowNoPipelines, telemetry.newPipelineTelemetry", error);
        }
        finally
        {
            File.Delete(file);
        }

        var (listed, list, _) = await RunAsync("featuregate");
        Assert.Equal(0, listed);
        Assert.Matches(@"(?m)^service\.AllowNoPipelines\s+false\s+Alpha\s+Allow starting", list);
        var (shown, details, _) = await RunAsync("featuregate", "processor.tailsamplingprocessor.recordpolicy");
        Assert.Equal(0, shown);
        Assert.Contains("Enabled: false\nStage: Alpha", details);
        Assert.Equal(1, (await RunAsync("featuregate", "nope")).Code);
    }

    [Fact]
    public async Task With_AllowNoPipelines_a_collector_runs_its_extensions_alone()
    {
        var registry = BuiltinComponents.CreateRegistry();
        registry.FeatureGates.Apply("service.AllowNoPipelines");
        var port = TestPorts.GetFree();
        await using var collector = Collector.FromYaml($$"""
            extensions:
              health_check:
                endpoint: 127.0.0.1:{{port}}
            service:
              extensions: [health_check]
              pipelines: {}
              telemetry:
                metrics:
                  level: none
            """, registry);
        await collector.StartAsync(CancellationToken.None);
        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{port}/")).StatusCode);
        await collector.StopAsync(CancellationToken.None);
    }

    private static async Task<(int Code, string Out, string Error)> RunAsync(params string[] args)
    {
        var (output, errors) = (new StringWriter(), new StringWriter());
        var code = await CliCommands.RunAsync(args, new CliConsole(output, errors), CancellationToken.None);
        return (code, output.ToString(), errors.ToString());
    }
}

/// <summary>telemetry.newPipelineTelemetry: each edge counted on both sides, with the outcome seen from each component.</summary>
public sealed class PipelineTelemetryTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Each_edge_is_counted_per_component_and_pipeline_with_its_outcome(bool gateOn)
    {
        var registry = BuiltinComponents.CreateRegistry();
        if (gateOn) registry.FeatureGates.Apply("telemetry.newPipelineTelemetry");
        var (receiverPort, deadPort) = (TestPorts.GetFree(), TestPorts.GetFree());
        await using var collector = Collector.FromYaml($"""
            receivers:
              otlp:
                protocols:
                  http:
                    endpoint: 127.0.0.1:{receiverPort}
            processors:
              attributes:
                actions: [{"{"}key: team, value: ai, action: insert{"}"}]
            exporters:
              debug:
              otlphttp:
                endpoint: http://127.0.0.1:{deadPort}
                retry_on_failure:
                  enabled: false
                sending_queue:
                  enabled: false
            service:
              telemetry:
                metrics:
                  level: none
              pipelines:
                traces/ok:
                  receivers: [otlp]
                  processors: [attributes]
                  exporters: [debug]
                traces/dead:
                  receivers: [otlp]
                  exporters: [otlphttp]
            """, registry, Harness.QuietOptions);
        await collector.StartAsync();
        using var http = new HttpClient();
        var body = new ByteArrayContent(Google.Protobuf.MessageExtensions.ToByteArray(SampleData.Traces(3)));
        body.Headers.ContentType = new("application/x-protobuf");
        Assert.False((await http.PostAsync($"http://127.0.0.1:{receiverPort}/v1/traces", body)).IsSuccessStatusCode);

        double? Read(string metric, params (string, string)[] labels) => collector.Metrics.Read(metric, labels);
        if (!gateOn)
        {
            Assert.DoesNotContain(collector.Metrics.Registered, m => m.Name == "otelcol_processor_consumed_items");
            return;
        }
        Assert.Equal(3, Read("otelcol_processor_consumed_items", ("otelcol_component_kind", "processor"), ("otelcol_component_id", "attributes"),
            ("otelcol_pipeline_id", "traces/ok"), ("otelcol_signal", "traces"), ("otelcol_component_outcome", "success")));
        Assert.Equal(3, Read("otelcol_processor_produced_items", ("otelcol_component_kind", "processor"), ("otelcol_component_id", "attributes"),
            ("otelcol_pipeline_id", "traces/ok"), ("otelcol_signal", "traces"), ("otelcol_component_outcome", "success")));
        Assert.Equal(3, Read("otelcol_exporter_consumed_items", ("otelcol_component_kind", "exporter"), ("otelcol_component_id", "debug"),
            ("otelcol_signal", "traces"), ("otelcol_component_outcome", "success")));
        // The dead exporter failed; the receiver, whose fan-out reached it, sees a refusal from downstream.
        Assert.Equal(3, Read("otelcol_exporter_consumed_items", ("otelcol_component_kind", "exporter"), ("otelcol_component_id", "otlphttp"),
            ("otelcol_signal", "traces"), ("otelcol_component_outcome", "failure")));
        Assert.Equal(3, Read("otelcol_receiver_produced_items", ("otelcol_component_kind", "receiver"), ("otelcol_component_id", "otlp"),
            ("otelcol_signal", "traces"), ("otelcol_component_outcome", "refused")));
    }
}
