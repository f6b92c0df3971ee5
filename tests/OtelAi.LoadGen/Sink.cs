using System.Globalization;
using Google.Protobuf;
using OtelAi.Engine;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Consumers;
using OtelAi.Otlp;
using OtelAi.Receivers;

namespace OtelAi.LoadGen;

/// <summary>
/// The mock backend of a load run: an embedded collector (the library API) with the real otlp receiver and a
/// counting exporter, printing items received per second. Counting is one interlocked add per request.
/// </summary>
internal static class Sink
{
    public static async Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken)
    {
        string? grpc = null, http = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--grpc-endpoint" when i + 1 < args.Length: grpc = args[++i]; break;
                case "--http-endpoint" when i + 1 < args.Length: http = args[++i]; break;
                default: throw new ArgumentException($"sink: unknown option {args[i]}; use --grpc-endpoint host:port and/or --http-endpoint host:port");
            }
        }
        if (grpc is null && http is null) throw new ArgumentException("sink needs --grpc-endpoint and/or --http-endpoint");

        var counter = new CountingExporterFactory();
        var registry = new ComponentRegistry().AddReceivers().Add(counter);
        var protocols = (grpc is null ? "" : $"\n      grpc:\n        endpoint: {grpc}\n        max_recv_msg_size_mib: 64")
                        + (http is null ? "" : $"\n      http:\n        endpoint: {http}");
        var yaml = $"""
            receivers:
              otlp:
                protocols:{protocols}
            exporters:
              count:
            service:
              telemetry:
                metrics:
                  level: none
              pipelines:
                traces:
                  receivers: [otlp]
                  exporters: [count]
                metrics:
                  receivers: [otlp]
                  exporters: [count]
                logs:
                  receivers: [otlp]
                  exporters: [count]
            """;
        var config = ConfigLoader.Load([new ConfigSource("<sink>", yaml)], registry).Config;
        await using var collector = Collector.FromConfig(config, registry);
        await collector.StartAsync(cancellationToken);
        output.WriteLine($"sink listening: grpc={grpc ?? "-"} http={http ?? "-"}");

        var last = 0L;
        while (!cancellationToken.IsCancellationRequested)
        {
            try { await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken); } catch (OperationCanceledException) { break; }
            var total = counter.Items;
            if (total != last) output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"received={total} rate={total - last}/s"));
            last = total;
        }
        await collector.StopAsync(CancellationToken.None);
        output.WriteLine($"sink total received={counter.Items}");
        return 0;
    }

    /// <summary>An exporter that only counts the items it is given (every signal).</summary>
    private sealed class CountingExporterFactory : IExporterFactory
    {
        private long _items;

        public long Items => Interlocked.Read(ref _items);
        public string Type => "count";
        public ComponentKind Kind => ComponentKind.Exporter;
        public Type ConfigType => typeof(EmptyConfig);
        public ComponentConfig CreateDefaultConfig() => new EmptyConfig();

        public IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; } = Enum.GetValues<Signal>().ToDictionary(s => s, _ => StabilityLevel.Development);

        public IExporter<T> CreateExporter<T>(ComponentCreateSettings settings, ComponentConfig config) where T : class, IMessage<T>, new() =>
            new Counting<T>(this);

        private sealed class Counting<T>(CountingExporterFactory owner) : IExporter<T> where T : class, IMessage<T>, new()
        {
            public Task StartAsync(IComponentHost host, CancellationToken cancellationToken) => Task.CompletedTask;
            public Task ShutdownAsync(CancellationToken cancellationToken) => Task.CompletedTask;

            public ValueTask ConsumeAsync(Payload<T> data, CancellationToken cancellationToken)
            {
                Interlocked.Add(ref owner._items, data.ItemCount);
                return ValueTask.CompletedTask;
            }
        }
    }
}
