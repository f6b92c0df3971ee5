using BenchmarkDotNet.Attributes;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using OtelAi.Engine;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.Telemetry;
using OtelAi.Proto.Collector.Trace.V1;
using OtelAi.TestSupport;

namespace OtelAi.Benchmarks;

/// <summary>
/// What the engine's graph costs per batch: a receiver's consumer → 2 pass-through processors → fan-out to 2
/// exporters that only count batches. Everything measured is engine plumbing (chaining, fan-out, async hops), so the
/// batch size does not matter: the payload is passed by reference and never cloned (no component mutates it).
/// </summary>
[MemoryDiagnoser]
public class PipelineBenchmarks
{
    private Collector _collector = null!;
    private ITelemetryConsumer<ExportTraceServiceRequest> _entry = null!;
    private ExportTraceServiceRequest _batch = null!;

    [Params(100)]
    public int SpansPerBatch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var receivers = new EntryCapturingReceiverFactory();
        var registry = new ComponentRegistry()
            .Add(receivers).Add(new PassThroughProcessorFactory()).Add(new CountingExporterFactory());
        _collector = new CollectorBuilder(registry)
            .WithTelemetry(new TelemetryConfig { Metrics = new TelemetryMetricsConfig { Level = "none" } })
            .AddReceiver("bench").AddProcessor("passthrough/1").AddProcessor("passthrough/2")
            .AddExporter("count/1").AddExporter("count/2")
            .AddPipeline("traces", receivers: ["bench"], processors: ["passthrough/1", "passthrough/2"], exporters: ["count/1", "count/2"])
            .Build(new CollectorOptions { LoggerFactory = NullLoggerFactory.Instance });
        _collector.StartAsync().GetAwaiter().GetResult();
        _entry = receivers.Traces!;
        _batch = SampleData.Traces(SpansPerBatch);
    }

    [GlobalCleanup]
    public void Cleanup() => _collector.StopAsync().GetAwaiter().GetResult();

    [Benchmark(Description = "receiver → 2 processors → fan-out to 2 exporters")]
    public ValueTask ConsumeBatch() => _entry.ConsumeAsync(_batch, CancellationToken.None);
}

internal abstract class BenchmarkFactory(string type, ComponentKind kind) : IComponentFactory
{
    public string Type => type;
    public ComponentKind Kind => kind;
    public Type ConfigType => typeof(EmptyConfig);
    public ComponentConfig CreateDefaultConfig() => new EmptyConfig();
    public IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; } =
        Enum.GetValues<Signal>().ToDictionary(s => s, _ => StabilityLevel.Development);
}

internal sealed class NoLifecycle : IComponent
{
    public Task StartAsync(IComponentHost host, CancellationToken cancellationToken) => Task.CompletedTask;
    public Task ShutdownAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Keeps the traces consumer the service hands the receiver, so the benchmark pushes straight into it.</summary>
internal sealed class EntryCapturingReceiverFactory() : BenchmarkFactory("bench", ComponentKind.Receiver), IReceiverFactory
{
    public ITelemetryConsumer<ExportTraceServiceRequest>? Traces { get; private set; }

    public IComponent CreateReceiver(ComponentCreateSettings settings, ComponentConfig config, ReceiverConsumers consumers)
    {
        Traces = consumers.Traces;
        return new NoLifecycle();
    }
}

internal sealed class PassThroughProcessorFactory() : BenchmarkFactory("passthrough", ComponentKind.Processor), IProcessorFactory
{
    public IProcessor<T> CreateProcessor<T>(ComponentCreateSettings settings, ComponentConfig config, ITelemetryConsumer<T> next)
        where T : class, IMessage<T>, new() => new PassThroughProcessor<T>(next);

    private sealed class PassThroughProcessor<T>(ITelemetryConsumer<T> next) : IProcessor<T> where T : class
    {
        public ValueTask ConsumeAsync(T data, CancellationToken cancellationToken) => next.ConsumeAsync(data, cancellationToken);
        public Task StartAsync(IComponentHost host, CancellationToken cancellationToken) => Task.CompletedTask;
        public Task ShutdownAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

internal sealed class CountingExporterFactory() : BenchmarkFactory("count", ComponentKind.Exporter), IExporterFactory
{
    public IExporter<T> CreateExporter<T>(ComponentCreateSettings settings, ComponentConfig config) where T : class, IMessage<T>, new() =>
        new CountingExporter<T>();

    private sealed class CountingExporter<T> : IExporter<T> where T : class, IMessage<T>, new()
    {
        private long _batches;

        public ValueTask ConsumeAsync(T data, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _batches);
            return ValueTask.CompletedTask;
        }

        public Task StartAsync(IComponentHost host, CancellationToken cancellationToken) => Task.CompletedTask;
        public Task ShutdownAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
