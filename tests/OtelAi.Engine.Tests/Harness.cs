using Microsoft.Extensions.Logging.Abstractions;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;

namespace OtelAi.Engine.Tests;

/// <summary>Shared set-up: a registry of engine + test components and collectors that log nowhere and serve no metrics.</summary>
public sealed class Harness
{
    public LifecycleLog Log { get; } = new();

    public ComponentRegistry Registry { get; }

    public Harness() => Registry = TestComponents.CreateRegistry(Log);

    public static TelemetryConfig QuietTelemetry { get; } = new() { Metrics = new TelemetryMetricsConfig { Level = "none" } };

    public static CollectorOptions QuietOptions { get; } = new() { LoggerFactory = NullLoggerFactory.Instance };

    public CollectorBuilder Builder() => new CollectorBuilder(Registry).WithTelemetry(QuietTelemetry);

    public T Factory<T>(ComponentKind kind, string type) where T : IComponentFactory =>
        Registry.TryGet(kind, type, out var factory) ? (T)factory : throw new InvalidOperationException($"no {kind} {type}");

    public static TestReceiver Receiver(Collector collector, string id = "testrecv") =>
        (TestReceiver)collector.FindComponent(ComponentKind.Receiver, ComponentId.Parse(id))!;

    /// <summary>The traces instance of a <c>collect</c> exporter (or of another signal's payload type).</summary>
    public static CollectingExporter<T> Exporter<T>(Collector collector, string id) where T : class, Google.Protobuf.IMessage<T>, new() =>
        collector.Components<CollectingExporter<T>>(ComponentKind.Exporter, ComponentId.Parse(id)).Single();

    /// <summary>Polls until <paramref name="condition"/> holds, up to 30 s (generous for a loaded CI machine).</summary>
    public static Task Eventually(Func<bool> condition, string what) => Eventually(() => Task.FromResult(condition()), what);

    /// <summary>Polls until <paramref name="condition"/> holds, up to 30 s (generous for a loaded CI machine).</summary>
    public static async Task Eventually(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out waiting for {what}");
            await Task.Delay(20);
        }
    }
}
