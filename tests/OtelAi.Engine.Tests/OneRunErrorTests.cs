using OtelAi.Engine.Config;

namespace OtelAi.Engine.Tests;

/// <summary>Component config errors and pipeline graph errors come out of one load, each problem once.</summary>
public sealed class OneRunErrorTests
{
    [Fact]
    public void A_bad_component_value_and_a_pipeline_naming_a_missing_component_are_reported_together()
    {
        var error = Assert.Throws<ConfigException>(() => Collector.FromYaml("""
            receivers:
              otlp:
                protocols: {grpc: {endpoint: '127.0.0.1:0'}}
            processors:
              batch:
                send_batch_size: lots
            exporters:
              debug: {}
            service:
              pipelines:
                traces:
                  receivers: [otlp]
                  processors: [batch]
                  exporters: [debug, otlp/missing]
            """, BuiltinComponents.CreateRegistry()));

        var paths = error.Issues.Select(i => i.KeyPath).ToList();
        Assert.Contains("processors.batch.send_batch_size", paths);
        Assert.Contains(error.Issues, i => i.KeyPath == "service.pipelines.traces.exporters[1]" && i.Message.Contains("\"otlp/missing\""));
        // The pipeline lists batch, whose config is in error: that is said once, at its config, not as "not configured".
        Assert.DoesNotContain(error.Issues, i => i.KeyPath.StartsWith("service.", StringComparison.Ordinal) && i.Message.Contains("\"batch\""));
        Assert.Equal(2, error.Issues.Count(i => i.Severity == ConfigIssueSeverity.Error));
    }
}
