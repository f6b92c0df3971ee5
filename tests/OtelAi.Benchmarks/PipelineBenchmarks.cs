using BenchmarkDotNet.Attributes;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using OtelAi.Engine;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.Exporter;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.TestSupport;

namespace OtelAi.Benchmarks;

/// <summary>
/// What the engine's graph costs per batch. <see cref="Topology.OnePipeline"/>: a receiver's consumer → 2 pass-through
/// processors → fan-out to 2 exporters that only count batches: pure plumbing (chaining, fan-out, async hops); the
/// payload is passed by reference. <see cref="Topology.SharedReceiverMutating"/>: the receiver feeds 2 pipelines whose
/// processors declare they mutate, so the fan-out clones the batch once: the cost of isolating pipelines.
/// <see cref="Topology.QueueAndReader"/>: <c>exporters: [otlp, debug]</c>'s shape, an exporter with a memory sending
/// queue (which keeps the batch but never changes it) beside a read-only exporter: neither needs a copy.
/// </summary>
[MemoryDiagnoser]
public class PipelineBenchmarks
{
    public enum Topology { OnePipeline, SharedReceiverMutating, QueueAndReader }

    private Collector _collector = null!;
    private ITelemetryConsumer<ExportTraceServiceRequest> _entry = null!;
    private ExportTraceServiceRequest _batch = null!;

    [Params(Topology.OnePipeline, Topology.SharedReceiverMutating, Topology.QueueAndReader)]
    public Topology Shape { get; set; }

    [Params(100)]
    public int SpansPerBatch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var receivers = new EntryCapturingReceiverFactory();
        var registry = new ComponentRegistry()
            .Add(receivers).Add(new PassThroughProcessorFactory("passthrough", mutates: false))
            .Add(new PassThroughProcessorFactory("mutating", mutates: true)).Add(new CountingExporterFactory()).Add(new QueuedExporterFactory());
        var builder = new CollectorBuilder(registry)
            .WithTelemetry(new TelemetryConfig { Metrics = new TelemetryMetricsConfig { Level = "none" } })
            .AddReceiver("bench").AddExporter("count/1").AddExporter("count/2");
        if (Shape == Topology.OnePipeline)
            builder.AddProcessor("passthrough/1").AddProcessor("passthrough/2")
                .AddPipeline("traces", receivers: ["bench"], processors: ["passthrough/1", "passthrough/2"], exporters: ["count/1", "count/2"]);
        else if (Shape == Topology.QueueAndReader)
            builder.AddExporter("queued")
                .AddPipeline("traces", receivers: ["bench"], exporters: ["queued", "count/1"]);
        else
            builder.AddProcessor("mutating")
                .AddPipeline("traces/1", receivers: ["bench"], processors: ["mutating"], exporters: ["count/1"])
                .AddPipeline("traces/2", receivers: ["bench"], processors: ["mutating"], exporters: ["count/2"]);
        _collector = builder.Build(new CollectorOptions { LoggerFactory = NullLoggerFactory.Instance });
        _collector.StartAsync().GetAwaiter().GetResult();
        _entry = receivers.Traces!;
        _batch = SampleData.Traces(SpansPerBatch);
    }

    [GlobalCleanup]
    public void Cleanup() => _collector.StopAsync().GetAwaiter().GetResult();

    [Benchmark(Description = "one batch through the graph")]
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

/// <summary>Passes data on untouched; <c>mutates</c> only changes what it declares (which decides fan-out cloning).</summary>
internal sealed class PassThroughProcessorFactory(string type, bool mutates) : BenchmarkFactory(type, ComponentKind.Processor), IProcessorFactory
{
    public IProcessor<T> CreateProcessor<T>(ComponentCreateSettings settings, ComponentConfig config, ITelemetryConsumer<T> next)
        where T : class, IMessage<T>, new() => new PassThroughProcessor<T>(next, mutates);

    private sealed class PassThroughProcessor<T>(ITelemetryConsumer<T> next, bool mutates) : IProcessor<T> where T : class, IMessage<T>, new()
    {
        public ConsumerCapabilities Capabilities => mutates ? ConsumerCapabilities.Mutates : ConsumerCapabilities.ReadOnly;

        public ValueTask ConsumeAsync(Payload<T> data, CancellationToken cancellationToken) => next.ConsumeAsync(data, cancellationToken);
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

        public ValueTask ConsumeAsync(Payload<T> data, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _batches);
            return ValueTask.CompletedTask;
        }

        public Task StartAsync(IComponentHost host, CancellationToken cancellationToken) => Task.CompletedTask;
        public Task ShutdownAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

/// <summary>The exporter helper with a memory sending queue in front of a sender that accepts at once.</summary>
internal sealed class QueuedExporterFactory() : BenchmarkFactory("queued", ComponentKind.Exporter), IExporterFactory
{
    public IExporter<T> CreateExporter<T>(ComponentCreateSettings settings, ComponentConfig config) where T : class, IMessage<T>, new() =>
        new ExporterHelper<T>(settings, new ExporterHelperOptions(TimeSpan.Zero, new RetryConfig(), new QueueConfig { QueueSize = 1_000_000 }), new AcceptingSender<T>());

    private sealed class AcceptingSender<T> : IExportSender<T> where T : class, IMessage<T>, new()
    {
        public ValueTask<SendResult> SendAsync(Payload<T> request, CancellationToken cancellationToken) => ValueTask.FromResult(SendResult.Success);
    }
}
