using OtelAi.Engine;
using OtelAi.Engine.Components;
using OtelAi.TestSupport;

namespace OtelAi.Benchmarks;

/// <summary>A started in-process collector whose traces pipeline takes the given receivers and forgets what they produce.</summary>
internal static class DiscardingCollector
{
    /// <param name="receivers">The <c>receivers:</c> section's entries, as YAML indented by two spaces.</param>
    public static Collector Start(string receivers, IReadOnlyList<string> receiverIds, params IComponentFactory[] factories)
    {
        var discard = new CaptureExporterFactory("discard", keep: false);
        var registry = discard.WithBuiltins();
        foreach (var factory in factories) registry.Add(factory);
        var collector = Collector.FromYaml($"""
            receivers:
            {receivers}
            exporters:
              discard:
            service:
              telemetry:
                metrics:
                  level: none
              pipelines:
                traces:
                  receivers: [{string.Join(", ", receiverIds)}]
                  exporters: [discard]
            """, registry, new CollectorOptions { LoggerFactory = Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance });
        collector.StartAsync().GetAwaiter().GetResult();
        return collector;
    }

    /// <summary>An otlp receiver's entry with gRPC on a loopback port.</summary>
    public static string OtlpGrpc(int port) => $"""
          otlp:
            protocols:
              grpc:
                endpoint: 127.0.0.1:{port}
        """;
}
