using System.Collections.Concurrent;
using Google.Protobuf;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Otlp.Proto.Common.V1;

namespace OtelAi.Engine.Tests;

/// <summary>Start/stop events of every test component, in the order they happened.</summary>
public sealed class LifecycleLog
{
    private readonly ConcurrentQueue<string> _events = new();

    public void Add(string entry) => _events.Enqueue(entry);

    public IReadOnlyList<string> Events => _events.ToArray();
}

/// <summary>Component types for engine tests, registered under their own type names beside the engine's.</summary>
public static class TestComponents
{
    public static readonly IReadOnlyDictionary<Signal, StabilityLevel> AllSignals =
        Enum.GetValues<Signal>().ToDictionary(s => s, _ => StabilityLevel.Development);

    public static ComponentRegistry CreateRegistry(LifecycleLog log) => new ComponentRegistry()
        .AddEngineComponents()
        .Add(new TestExtensionFactory(log))
        .Add(new TestReceiverFactory(log))
        .Add(new TagProcessorFactory(log))
        .Add(new BufferingProcessorFactory(log))
        .Add(new CollectingExporterFactory(log))
        .Add(new TracesOnlyExporterFactory())
        .Add(new TracesToMetricsConnectorFactory());

    /// <summary>The resource attribute values <c>tag</c> processors appended, in order.</summary>
    public static IReadOnlyList<string> Tags(ExportTraceServiceRequest request) =>
        request.ResourceSpans[0].Resource.Attributes.Where(a => a.Key == "tag").Select(a => a.Value.StringValue).ToList();
}

public abstract class TestFactory(string type, ComponentKind kind) : IComponentFactory
{
    public string Type => type;
    public ComponentKind Kind => kind;
    public virtual Type ConfigType => typeof(TestConfig);
    public virtual ComponentConfig CreateDefaultConfig() => new TestConfig();
    public virtual IReadOnlyDictionary<Signal, StabilityLevel> Stability => TestComponents.AllSignals;
}

public sealed record TestConfig : ComponentConfig
{
    /// <summary>Exporters: the factory refuses to build with this message when set.</summary>
    public string? FailCreate { get; init; }

    /// <summary>Start fails with this message when set.</summary>
    public string? FailStart { get; init; }

    /// <summary>Exporters: how long each send takes (sent from a background queue, drained at shutdown).</summary>
    public TimeSpan SendDelay { get; init; }

    /// <summary>Exporters: shutdown never completes unless cancelled (a stuck backend).</summary>
    public bool HangOnShutdown { get; init; }
}

/// <summary>Records start/stop in the log and fails start when configured.</summary>
public abstract class TestComponent(LifecycleLog log, string name, TestConfig config) : IComponent
{
    public IComponentHost? Host { get; private set; }

    public virtual Task StartAsync(IComponentHost host, CancellationToken cancellationToken)
    {
        if (config.FailStart is { } message) throw new InvalidOperationException(message);
        Host = host;
        log.Add("start " + name);
        return Task.CompletedTask;
    }

    public virtual Task ShutdownAsync(CancellationToken cancellationToken)
    {
        log.Add("stop " + name);
        return Task.CompletedTask;
    }
}

/// <summary>An extension that records its lifecycle; gates can hold its start or shutdown until a test releases them.</summary>
public sealed class TestExtensionFactory(LifecycleLog log) : TestFactory("testext", ComponentKind.Extension), IExtensionFactory
{
    /// <summary>Start of the extension with this id waits for the task (keyed by id text).</summary>
    public ConcurrentDictionary<string, Task> StartGates { get; } = new();

    /// <summary>Shutdown of the extension with this id waits for the task.</summary>
    public ConcurrentDictionary<string, Task> StopGates { get; } = new();

    public override IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; } = new Dictionary<Signal, StabilityLevel>();

    public StabilityLevel ExtensionStability => StabilityLevel.Development;

    public IComponent CreateExtension(ComponentCreateSettings settings, ComponentConfig config) =>
        new TestExtension(log, $"extension/{settings.Id}", (TestConfig)config,
            StartGates.GetValueOrDefault(settings.Id.ToString()), StopGates.GetValueOrDefault(settings.Id.ToString()));
}

public sealed class TestExtension(LifecycleLog log, string name, TestConfig config, Task? startGate, Task? stopGate)
    : TestComponent(log, name, config)
{
    public override async Task StartAsync(IComponentHost host, CancellationToken cancellationToken)
    {
        if (startGate is not null) await startGate.WaitAsync(cancellationToken);
        await base.StartAsync(host, cancellationToken);
    }

    public override async Task ShutdownAsync(CancellationToken cancellationToken)
    {
        if (stopGate is not null) await stopGate.WaitAsync(cancellationToken);
        await base.ShutdownAsync(cancellationToken);
    }
}

/// <summary>A receiver tests push data through (as a real receiver would after decoding a request).</summary>
public sealed class TestReceiverFactory(LifecycleLog log) : TestFactory("testrecv", ComponentKind.Receiver), IReceiverFactory
{
    public IComponent CreateReceiver(ComponentCreateSettings settings, ComponentConfig config, ReceiverConsumers consumers) =>
        new TestReceiver(log, $"receiver/{settings.Id}", (TestConfig)config, consumers, new ReceiverMetrics(settings.Metrics, settings.Id, "test"));
}

public sealed class TestReceiver(LifecycleLog log, string name, TestConfig config, ReceiverConsumers consumers, ReceiverMetrics metrics)
    : TestComponent(log, name, config)
{
    private volatile bool _accepting;

    public ReceiverConsumers Consumers => consumers;

    public override async Task StartAsync(IComponentHost host, CancellationToken cancellationToken)
    {
        await base.StartAsync(host, cancellationToken);
        _accepting = true;
    }

    public override Task ShutdownAsync(CancellationToken cancellationToken)
    {
        _accepting = false;
        return base.ShutdownAsync(cancellationToken);
    }

    public Task SendAsync(ExportTraceServiceRequest data) => SendAsync(Accepting().Traces!, data);

    public Task SendAsync(ExportMetricsServiceRequest data) => SendAsync(Accepting().Metrics!, data);

    public Task SendAsync(ExportLogsServiceRequest data) => SendAsync(Accepting().Logs!, data);

    private async Task SendAsync<T>(ITelemetryConsumer<T> consumer, T data) where T : class, IMessage<T>, new()
    {
        var items = OtlpSignal<T>.Instance.CountItems(data);
        try
        {
            await consumer.ConsumeAsync(data, CancellationToken.None);
            metrics.Accepted(OtlpSignal<T>.Instance.Signal, items);
        }
        catch
        {
            metrics.Refused(OtlpSignal<T>.Instance.Signal, items);
            throw;
        }
    }

    private ReceiverConsumers Accepting() =>
        _accepting ? consumers : throw new RetryableDataException("receiver is not accepting data (not started or stopped)");
}

/// <summary>Appends a resource attribute <c>tag=&lt;id&gt;</c> to every resource, so tests see which processors data passed.</summary>
public sealed class TagProcessorFactory(LifecycleLog log) : TestFactory("tag", ComponentKind.Processor), IProcessorFactory
{
    public IProcessor<T> CreateProcessor<T>(ComponentCreateSettings settings, ComponentConfig config, ITelemetryConsumer<T> next)
        where T : class, IMessage<T>, new() =>
        new TagProcessor<T>(log, $"processor/{settings.Id}", settings.Id.ToString(), (TestConfig)config, next);
}

public sealed class TagProcessor<T>(LifecycleLog log, string name, string tag, TestConfig config, ITelemetryConsumer<T> next)
    : TestComponent(log, name, config), IProcessor<T> where T : class, IMessage<T>, new()
{
    public ConsumerCapabilities Capabilities => ConsumerCapabilities.Mutates;

    public ValueTask ConsumeAsync(Payload<T> payload, CancellationToken cancellationToken)
    {
        var data = payload.Edit();
        var attribute = new KeyValue { Key = "tag", Value = new AnyValue { StringValue = tag } };
        switch (data)
        {
            case ExportTraceServiceRequest t: foreach (var r in t.ResourceSpans) r.Resource.Attributes.Add(attribute); break;
            case ExportMetricsServiceRequest m: foreach (var r in m.ResourceMetrics) r.Resource.Attributes.Add(attribute); break;
            case ExportLogsServiceRequest l: foreach (var r in l.ResourceLogs) r.Resource.Attributes.Add(attribute); break;
        }
        return next.ConsumeAsync(payload, cancellationToken);
    }
}

/// <summary>Holds everything it receives and passes it on only at shutdown (like a batch processor's last flush).</summary>
public sealed class BufferingProcessorFactory(LifecycleLog log) : TestFactory("buffer", ComponentKind.Processor), IProcessorFactory
{
    public IProcessor<T> CreateProcessor<T>(ComponentCreateSettings settings, ComponentConfig config, ITelemetryConsumer<T> next)
        where T : class, IMessage<T>, new() =>
        new BufferingProcessor<T>(log, $"processor/{settings.Id}", (TestConfig)config, next);
}

public sealed class BufferingProcessor<T>(LifecycleLog log, string name, TestConfig config, ITelemetryConsumer<T> next)
    : TestComponent(log, name, config), IProcessor<T> where T : class, IMessage<T>, new()
{
    private readonly ConcurrentQueue<Payload<T>> _held = new();

    public ValueTask ConsumeAsync(Payload<T> data, CancellationToken cancellationToken)
    {
        _held.Enqueue(data);
        return ValueTask.CompletedTask;
    }

    public override async Task ShutdownAsync(CancellationToken cancellationToken)
    {
        while (_held.TryDequeue(out var data)) await next.ConsumeAsync(data, cancellationToken);
        await base.ShutdownAsync(cancellationToken);
    }
}

/// <summary>
/// Keeps what it exports. With <see cref="TestConfig.SendDelay"/> it accepts into a queue and sends in the background,
/// and shutdown waits until the queue is empty (or the shutdown deadline passes), like a sending queue.
/// </summary>
public sealed class CollectingExporterFactory(LifecycleLog log) : TestFactory("collect", ComponentKind.Exporter), IExporterFactory
{
    public IExporter<T> CreateExporter<T>(ComponentCreateSettings settings, ComponentConfig config) where T : class, IMessage<T>, new() =>
        ((TestConfig)config).FailCreate is { } message
            ? throw new ArgumentException(message)
            : new CollectingExporter<T>(log, $"exporter/{settings.Id}/{OtlpSignal<T>.Instance.Signal.ToConfigName()}", (TestConfig)config);
}

public sealed class CollectingExporter<T>(LifecycleLog log, string name, TestConfig config)
    : TestComponent(log, name, config), IExporter<T> where T : class, IMessage<T>, new()
{
    private readonly ConcurrentQueue<T> _exported = new();
    private readonly System.Threading.Channels.Channel<Payload<T>> _queue = System.Threading.Channels.Channel.CreateUnbounded<Payload<T>>();
    private Task? _sender;

    public IReadOnlyList<T> Exported => _exported.ToArray();

    public int ItemCount => _exported.Sum(OtlpSignal<T>.Instance.CountItems);

    public override async Task StartAsync(IComponentHost host, CancellationToken cancellationToken)
    {
        await base.StartAsync(host, cancellationToken);
        _sender = Task.Run(SendLoopAsync, CancellationToken.None);
    }

    public ValueTask ConsumeAsync(Payload<T> data, CancellationToken cancellationToken) =>
        _queue.Writer.TryWrite(data) ? ValueTask.CompletedTask : throw new RetryableDataException("exporter is shut down");

    private async Task SendLoopAsync()
    {
        await foreach (var data in _queue.Reader.ReadAllAsync())
        {
            if (config.SendDelay > TimeSpan.Zero) await Task.Delay(config.SendDelay);
            _exported.Enqueue(data.Message);
        }
    }

    public override async Task ShutdownAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        if (config.HangOnShutdown) await Task.Delay(Timeout.Infinite, CancellationToken.None);
        if (_sender is not null) await _sender.WaitAsync(cancellationToken);
        await base.ShutdownAsync(cancellationToken);
    }
}

/// <summary>An exporter type that supports traces only (for wrong-signal checks).</summary>
public sealed class TracesOnlyExporterFactory() : TestFactory("tracesonly", ComponentKind.Exporter), IExporterFactory
{
    public override IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; } = new Dictionary<Signal, StabilityLevel> { [Signal.Traces] = StabilityLevel.Alpha };

    public IExporter<T> CreateExporter<T>(ComponentCreateSettings settings, ComponentConfig config) where T : class, IMessage<T>, new() =>
        new CollectingExporter<T>(new LifecycleLog(), settings.Id.ToString(), (TestConfig)config);
}

/// <summary>traces → metrics: one gauge point per span count (a cross-signal connector like spanmetrics, reduced to its shape).</summary>
public sealed class TracesToMetricsConnectorFactory() : TestFactory("spancount", ComponentKind.Connector), IConnectorFactory
{
    public override IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; } = new Dictionary<Signal, StabilityLevel>();

    public IReadOnlyDictionary<(Signal From, Signal To), StabilityLevel> SupportedRoutes { get; } =
        new Dictionary<(Signal, Signal), StabilityLevel> { [(Signal.Traces, Signal.Metrics)] = StabilityLevel.Alpha };

    public IExporter<TIn> CreateConnector<TIn, TOut>(ComponentCreateSettings settings, ComponentConfig config, ITelemetryConsumer<TOut> next)
        where TIn : class, IMessage<TIn>, new()
        where TOut : class, IMessage<TOut>, new() =>
        (IExporter<TIn>)(object)new SpanCountConnector((ITelemetryConsumer<ExportMetricsServiceRequest>)next);
}

public sealed class SpanCountConnector(ITelemetryConsumer<ExportMetricsServiceRequest> next) : IExporter<ExportTraceServiceRequest>
{
    public ValueTask ConsumeAsync(Payload<ExportTraceServiceRequest> payload, CancellationToken cancellationToken)
    {
        var data = payload.Message;
        var spans = OtlpSignal<ExportTraceServiceRequest>.Instance.CountItems(data);
        var metrics = new ExportMetricsServiceRequest
        {
            ResourceMetrics =
            {
                new OtelAi.Otlp.Proto.Metrics.V1.ResourceMetrics
                {
                    Resource = data.ResourceSpans.Count > 0 ? data.ResourceSpans[0].Resource.Clone() : new OtelAi.Otlp.Proto.Resource.V1.Resource(),
                    ScopeMetrics =
                    {
                        new OtelAi.Otlp.Proto.Metrics.V1.ScopeMetrics
                        {
                            Metrics =
                            {
                                new OtelAi.Otlp.Proto.Metrics.V1.Metric
                                {
                                    Name = "span.count",
                                    Gauge = new OtelAi.Otlp.Proto.Metrics.V1.Gauge { DataPoints = { new OtelAi.Otlp.Proto.Metrics.V1.NumberDataPoint { AsInt = spans } } },
                                },
                            },
                        },
                    },
                },
            },
        };
        return next.ConsumeAsync(metrics, cancellationToken);
    }

    public Task StartAsync(IComponentHost host, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task ShutdownAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
