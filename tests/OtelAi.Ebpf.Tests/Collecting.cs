using OtelAi.TestSupport;
using System.Collections.Concurrent;
using OtelAi.Engine.Components;
using Google.Protobuf;
using OtelAi.Engine.Consumers;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Otlp.Proto.Resource.V1;
using OtelAi.Otlp.Proto.Trace.V1;
using OtelAi.Receivers.Ebpf;

namespace OtelAi.Ebpf.Tests;

/// <summary>An ebpf receiver built by its factory with collecting consumers for all three signals.</summary>
internal sealed class ReceiverUnderTest : IAsyncDisposable
{
    public Sink<ExportTraceServiceRequest> Traces { get; }
    public Sink<ExportMetricsServiceRequest> Metrics { get; }
    public Sink<ExportLogsServiceRequest> Logs { get; }
    public TestHost Host { get; } = new();
    public ComponentCreateSettings Settings { get; } = TestSettings.For(new ComponentId("ebpf"), ComponentKind.Receiver);
    public IComponent Receiver { get; }

    /// <param name="tracesOnly">Only a traces pipeline uses the receiver (metrics and logs consumers absent).</param>
    /// <param name="keepData">Keep what the pipelines receive (false: only count it).</param>
    public ReceiverUnderTest(EbpfReceiverConfig config, bool tracesOnly = false, bool keepData = true)
    {
        (Traces, Metrics, Logs) = (new(keepData), new(keepData), new(keepData));
        Assert.Empty(config.Validate());
        Receiver = new EbpfReceiverFactory().CreateReceiver(Settings, config, tracesOnly ? new ReceiverConsumers(Traces, null, null) : new ReceiverConsumers(Traces, Metrics, Logs));
    }

    public async Task StartAsync() => await Receiver.StartAsync(Host, CancellationToken.None);

    public List<(Resource Resource, Span Span)> Spans() =>
        Traces.Payloads.SelectMany(r => r.ResourceSpans).SelectMany(rs => rs.ScopeSpans.SelectMany(ss => ss.Spans).Select(s => (rs.Resource, s))).ToList();

    /// <summary>Polls (up to 30 s) until <paramref name="done"/> holds.</summary>
    public static async Task WaitUntil(Func<bool> done, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!done())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"waited 30 s for {what}");
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await Receiver.ShutdownAsync(timeout.Token);
        Assert.Empty(Host.FatalErrors);
    }
}
