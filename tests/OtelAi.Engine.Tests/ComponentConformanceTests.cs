using System.Net.Http.Headers;
using System.Reflection;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.TestSupport;

namespace OtelAi.Engine.Tests;

/// <summary>
/// The contract every registered component passes, whatever its kind: its defaults (plus the few keys a user must
/// set, below) validate; it starts; it takes a payload of every signal it supports and hands it on (or out); it shuts
/// down, twice without harm; and once shut down it no longer takes data it would lose. A new component is covered
/// by being registered: if its defaults need more than <see cref="RequiredSettings"/> gives, this test says so.
/// </summary>
public sealed class ComponentConformanceTests : IAsyncLifetime
{
    private static readonly ComponentRegistry Registry = BuiltinComponents.CreateRegistry();
    private readonly string _directory = Directory.CreateTempSubdirectory("otelai-conformance-").FullName;
    private readonly int _sinkGrpcPort = TestPorts.GetFree();
    private readonly int _sinkHttpPort = TestPorts.GetFree();
    private readonly int _receiverHttpPort = TestPorts.GetFree();
    private readonly LifecycleLog _sinkLog = new();
    private Collector _sink = null!;

    public static TheoryData<ComponentKind, string> Components()
    {
        var data = new TheoryData<ComponentKind, string>();
        foreach (var kind in Enum.GetValues<ComponentKind>())
            foreach (var factory in Registry.Factories(kind))
                data.Add(kind, factory.Type);
        return data;
    }

    /// <summary>
    /// What a user must add to a component's defaults to run it on this machine: the keys otelcol also requires
    /// (an exporter's endpoint, a file path, an action), loopback ports and temporary paths. Nothing else.
    /// </summary>
    private string RequiredSettings(ComponentKind kind, string type) => (kind, type) switch
    {
        (ComponentKind.Receiver, "otlp") => $"protocols: {{grpc: {{endpoint: '127.0.0.1:0'}}, http: {{endpoint: '127.0.0.1:{_receiverHttpPort}'}}}}",
        (ComponentKind.Receiver, "otlpjsonfile") => $"include: ['{_directory}/input-*.jsonl']\nstart_at: beginning\npoll_interval: 50ms",
        // A target that answers 404: the receiver reports it down (up = 0) and keeps going.
        (ComponentKind.Receiver, "prometheus") => $"config: {{scrape_configs: [{{job_name: conformance, scrape_interval: 100ms, static_configs: [{{targets: ['127.0.0.1:{_sinkHttpPort}']}}]}}]}}",
        (ComponentKind.Receiver, "ebpf") => $"replay: '{EmptyRecording()}'\nprogram: http_requests",
        (ComponentKind.Processor, "attributes") => "actions: [{key: conformance, value: 'yes', action: upsert}]",
        (ComponentKind.Processor, "resource") => "attributes: [{key: conformance, value: 'yes', action: upsert}]",
        (ComponentKind.Processor, "memory_limiter") => "check_interval: 1s\nlimit_percentage: 99\nspike_limit_percentage: 1",
        (ComponentKind.Processor, "tail_sampling") => "decision_wait: 100ms\npolicies: [{name: all, type: always_sample}]",
        (ComponentKind.Exporter, "otlp_grpc") => $"endpoint: '127.0.0.1:{_sinkGrpcPort}'\ntls: {{insecure: true}}",
        (ComponentKind.Exporter, "otlp_http") => $"endpoint: 'http://127.0.0.1:{_sinkHttpPort}'",
        (ComponentKind.Exporter, "load_balancing") => $"resolver: {{static: {{hostnames: ['127.0.0.1:{_sinkGrpcPort}']}}}}\nprotocol: {{otlp: {{tls: {{insecure: true}}}}}}",
        (ComponentKind.Exporter, "prometheus") => "endpoint: '127.0.0.1:0'",
        // The sink answers 404 at this path: a permanent refusal, so the queue drains at shutdown without retrying.
        (ComponentKind.Exporter, "prometheusremotewrite") => $"endpoint: 'http://127.0.0.1:{_receiverHttpPort}/api/v1/write'",
        (ComponentKind.Connector, "anomaly") => "window: 100ms\nstep: 100ms\n"
            + "series: [{name: latency, group_by: [model_id]}, {name: gpu, source: metric, metric: gpu.memory.used, group_by: [gpu]}]\n"
            + "rules: [{name: spans, series: latency, statistic: count, detector: threshold, above: 0}, {name: memory, series: gpu, statistic: count, detector: threshold, above: 0}]",
        (ComponentKind.Exporter, "file") => $"path: '{_directory}/out-{Guid.NewGuid():N}.jsonl'",
        (ComponentKind.Extension, "bearertokenauth") => "token: conformance",
        (ComponentKind.Extension, "basicauth") => "client_auth: {username: conformance, password: secret}",
        (ComponentKind.Extension, "headers_setter") => "headers: [{key: X-Scope-OrgID, value: conformance}]",
        (ComponentKind.Extension, "health_check") => "endpoint: '127.0.0.1:0'",
        (ComponentKind.Extension, "zpages") => "endpoint: '127.0.0.1:0'",
        (ComponentKind.Extension, "file_storage") => $"directory: '{_directory}'",
        _ => "",
    };

    public async Task InitializeAsync()
    {
        // Where the network exporters deliver: a collector with the real otlp receiver, keeping what arrives.
        var registry = BuiltinComponents.CreateRegistry().Add(new CollectingExporterFactory(_sinkLog));
        _sink = Collector.FromYaml($$$"""
            receivers:
              otlp:
                protocols:
                  grpc: {endpoint: '127.0.0.1:{{{_sinkGrpcPort}}}'}
                  http: {endpoint: '127.0.0.1:{{{_sinkHttpPort}}}'}
            exporters:
              collect: {}
            service:
              telemetry: {metrics: {level: none}}
              pipelines:
                traces: {receivers: [otlp], exporters: [collect]}
                metrics: {receivers: [otlp], exporters: [collect]}
                logs: {receivers: [otlp], exporters: [collect]}
            """, registry, Harness.QuietOptions);
        await _sink.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _sink.StopAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Theory]
    [MemberData(nameof(Components))]
    public async Task Component_honours_the_lifecycle_and_data_contract(ComponentKind kind, string type)
    {
        Assert.True(Registry.TryGet(kind, type, out var factory));
        var config = BindRunnable(factory, RequiredSettings(kind, type));
        var registries = new List<MetricRegistry>();
        CreatedRegistries.Value = registries;
        switch (factory)
        {
            case IReceiverFactory receivers: await CheckReceiverAsync(receivers, config); break;
            case IProcessorFactory processors:
                foreach (var signal in factory.Stability.Keys) await ForSignal(signal, new ProcessorCheck(processors, config));
                break;
            case IExporterFactory exporters:
                foreach (var signal in factory.Stability.Keys) await ForSignal(signal, new ExporterCheck(this, exporters, config));
                break;
            case IConnectorFactory connectors:
                foreach (var (from, to) in connectors.SupportedRoutes.Keys) await CheckConnectorRouteAsync(connectors, config, from, to);
                break;
            case IExtensionFactory extensions: await CheckExtensionAsync(extensions, config); break;
            default: Assert.Fail($"{kind} {type}: the factory implements no component kind's interface"); break;
        }
        // What the component registered while it ran must be what its factory declares (name, kind, description, labels).
        var undeclared = registries.SelectMany(r => r.Registered).Where(m => !factory.SelfMetrics.Contains(m)).Distinct().ToList();
        Assert.True(undeclared.Count == 0, $"{kind} {type} emits self-metrics its factory does not declare: {string.Join(", ", undeclared)}");
    }

    /// <summary>The metric registries handed to the components of the running check.</summary>
    private static readonly AsyncLocal<List<MetricRegistry>?> CreatedRegistries = new();

    /// <summary>Binds the required keys over the defaults, as a config file would; a failure names what is missing.</summary>
    private static ComponentConfig BindRunnable(IComponentFactory factory, string yaml)
    {
        var bind = typeof(ConfigLoader).GetMethod(nameof(ConfigLoader.Bind))!.MakeGenericMethod(factory.ConfigType);
        try
        {
            return (ComponentConfig)bind.Invoke(null, [yaml])!;
        }
        catch (TargetInvocationException e) when (e.InnerException is ConfigException config)
        {
            throw new Xunit.Sdk.XunitException(
                $"{factory.Kind} {factory.Type}: its defaults plus RequiredSettings do not validate; give it the keys a user must set:\n{config.Message}");
        }
    }

    private static ComponentCreateSettings Settings(IComponentFactory factory)
    {
        var metrics = new MetricRegistry();
        CreatedRegistries.Value?.Add(metrics);
        return new(ComponentId.Parse(factory.Type), factory.Kind, NullLogger.Instance, metrics, BuildInfo.Current);
    }

    /// <summary>Shuts down twice (the second must be harmless) within a deadline a hung component would miss.</summary>
    private static async Task ShutdownTwiceAsync(IComponent component)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await component.ShutdownAsync(deadline.Token);
        await component.ShutdownAsync(deadline.Token);
    }

    /// <summary>After shutdown, data is either refused (retryably or for good) or still handed on: never taken and lost.</summary>
    private static async Task AssertNotSwallowedAfterShutdown<T>(ITelemetryConsumer<T> component, T payload, Func<long> deliveredItems, string what)
        where T : class, IMessage<T>, new()
    {
        var before = deliveredItems();
        try
        {
            await component.ConsumeAsync(payload, CancellationToken.None);
        }
        catch (Exception e) when (e is RetryableDataException or PermanentDataException)
        {
            return;
        }
        Assert.True(deliveredItems() > before, $"{what} accepted data after shutdown and delivered none of it");
    }

    private static T Sample<T>() where T : class, IMessage<T>, new() => (T)(object)(OtlpSignal<T>.Instance.Signal switch
    {
        Signal.Traces => SampleData.Traces(3),
        Signal.Metrics => SampleData.Metrics(3),
        _ => SampleData.Logs(3),
    });

    /// <summary>A sample payload as a receiver hands canonical protobuf on: undecoded.</summary>
    private static Payload<T> Encoded<T>(T message) where T : class, IMessage<T>, new() =>
        Otlp.Payload<T>.TryFromWire(message.ToByteArray()) ?? throw new InvalidOperationException("sample data is not canonical");

    private static long Items<T>(Sink<T> sink) where T : class, IMessage<T>, new() => sink.Items;

    /// <summary>Runs a signal-generic check with the payload type of <paramref name="signal"/>.</summary>
    private static Task ForSignal(Signal signal, ISignalCheck check) => signal switch
    {
        Signal.Traces => check.RunAsync<ExportTraceServiceRequest>(),
        Signal.Metrics => check.RunAsync<ExportMetricsServiceRequest>(),
        _ => check.RunAsync<ExportLogsServiceRequest>(),
    };

    private interface ISignalCheck
    {
        Task RunAsync<T>() where T : class, IMessage<T>, new();
    }

    private sealed class ProcessorCheck(IProcessorFactory factory, ComponentConfig config) : ISignalCheck
    {
        public async Task RunAsync<T>() where T : class, IMessage<T>, new()
        {
            var what = $"processor {factory.Type} ({OtlpSignal<T>.Instance.Signal.ToConfigName()})";
            var sink = new Sink<T>();
            var processor = factory.CreateProcessor(Settings(factory), config, sink);
            await processor.StartAsync(new TestHost(), CancellationToken.None);
            await processor.ConsumeAsync(Encoded(Sample<T>()), CancellationToken.None);
            await ShutdownTwiceAsync(processor);
            // A processor (with what follows it) that declares it reads no content must hand the payload on undecoded.
            if (!processor.Capabilities.ReadsContent)
                Assert.True(sink.Arrived.All(p => p.IsEncoded), $"{what} declares that it reads no content, yet the payload came out decoded");
            // Defaults (and the actions above) drop nothing, so every item comes out; batch flushes at shutdown.
            Assert.True(Items(sink) == 3, $"{what}: 3 items in, {Items(sink)} out");
            await AssertNotSwallowedAfterShutdown(processor, Sample<T>(), () => Items(sink), what);
        }
    }

    private sealed class ExporterCheck(ComponentConformanceTests test, IExporterFactory factory, ComponentConfig config) : ISignalCheck
    {
        public async Task RunAsync<T>() where T : class, IMessage<T>, new()
        {
            var what = $"exporter {factory.Type} ({OtlpSignal<T>.Instance.Signal.ToConfigName()})";
            var settings = Settings(factory);
            var exporter = factory.CreateExporter<T>(settings, config);
            await exporter.StartAsync(new TestHost(), CancellationToken.None);
            var sent = Sample<T>();
            var payload = Encoded(sent);
            await exporter.ConsumeAsync(payload, CancellationToken.None);
            await ShutdownTwiceAsync(exporter);
            if (!exporter.Capabilities.ReadsContent)
                Assert.True(payload.IsEncoded, $"{what} declares that it reads no content, yet it decoded the payload");
            Assert.True(test.Delivered(factory.Type, config, sent), $"{what}: the payload did not arrive where the exporter sends");
            // An exporter that is shut down has nowhere to send: it must refuse.
            await Assert.ThrowsAsync<RetryableDataException>(async () => await exporter.ConsumeAsync(Sample<T>(), CancellationToken.None));
        }
    }

    /// <summary>Whether <paramref name="sent"/> reached the exporter's destination (for exporters whose output a test can read).</summary>
    private bool Delivered<T>(string type, ComponentConfig config, T sent) where T : class, IMessage<T>, new()
    {
        switch (type)
        {
            case "otlp_grpc" or "otlp_http" or "load_balancing":
                return Harness.Exporter<T>(_sink, "collect").Exported.Any(r => r.Equals(sent));
            case "file":
                var path = (string)config.GetType().GetProperty("Path")!.GetValue(config)!;
                return File.Exists(path) && File.ReadAllText(path).Contains(OtlpSignal<T>.Instance.Signal switch
                {
                    Signal.Traces => "resourceSpans",
                    Signal.Metrics => "resourceMetrics",
                    _ => "resourceLogs",
                }, StringComparison.Ordinal);
            default:
                return true; // debug: writes to the console
        }
    }

    private async Task CheckConnectorRouteAsync(IConnectorFactory factory, ComponentConfig config, Signal from, Signal to)
    {
        var check = new ConnectorCheck(factory, config, to);
        await ForSignal(from, check);
    }

    /// <summary>The sample data, made the kind a connector derives from (genai_metrics reads GenAI spans only).</summary>
    private static T ConnectorInput<T>(string type) where T : class, IMessage<T>, new()
    {
        var sample = Sample<T>();
        if (type == "genai_metrics" && sample is ExportTraceServiceRequest traces)
            foreach (var span in traces.ResourceSpans.SelectMany(r => r.ScopeSpans).SelectMany(s => s.Spans))
                span.Attributes.Add(SampleData.Attr("gen_ai.request.model", "llama-3"));
        return sample;
    }

    private sealed class ConnectorCheck(IConnectorFactory factory, ComponentConfig config, Signal to) : ISignalCheck
    {
        public Task RunAsync<TIn>() where TIn : class, IMessage<TIn>, new() => to switch
        {
            Signal.Traces => RunAsync<TIn, ExportTraceServiceRequest>(),
            Signal.Metrics => RunAsync<TIn, ExportMetricsServiceRequest>(),
            _ => RunAsync<TIn, ExportLogsServiceRequest>(),
        };

        private async Task RunAsync<TIn, TOut>() where TIn : class, IMessage<TIn>, new() where TOut : class, IMessage<TOut>, new()
        {
            var what = $"connector {factory.Type} ({OtlpSignal<TIn>.Instance.Signal.ToConfigName()} → {OtlpSignal<TOut>.Instance.Signal.ToConfigName()})";
            var sink = new Sink<TOut>();
            var connector = factory.CreateConnector<TIn, TOut>(Settings(factory), config, sink);
            await connector.StartAsync(new TestHost(), CancellationToken.None);
            await connector.ConsumeAsync(ConnectorInput<TIn>(factory.Type), CancellationToken.None);
            if (factory.Type == "anomaly") await sink.WaitForItemsAsync(1); // it speaks at its next step, not at shutdown
            await ShutdownTwiceAsync(connector);
            Assert.True(Items(sink) > 0, $"{what}: nothing came out");
            await AssertNotSwallowedAfterShutdown(connector, Sample<TIn>(), () => Items(sink), what);
        }
    }

    private async Task CheckReceiverAsync(IReceiverFactory factory, ComponentConfig config)
    {
        var traces = new Sink<ExportTraceServiceRequest>();
        var metrics = new Sink<ExportMetricsServiceRequest>();
        var logs = new Sink<ExportLogsServiceRequest>();
        var settings = Settings(factory);
        var receiver = factory.CreateReceiver(settings, config, new ReceiverConsumers(traces, metrics, logs));
        await receiver.StartAsync(new TestHost(), CancellationToken.None);
        var fed = await FeedAsync(factory.Type);
        if (fed)
        {
            await traces.WaitForAsync(1);
            await metrics.WaitForAsync(1);
            await logs.WaitForAsync(1);
        }
        await ShutdownTwiceAsync(receiver);
        if (factory.Type == "otlp")
        {
            // Shut down means no longer listening: a client is refused instead of sending into nothing.
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => PostAsync(_receiverHttpPort, "v1/traces", SampleData.Traces(1)));
        }
    }

    /// <summary>Gives a started receiver one payload of each signal the way its users would; false when it reads no input a test can write.</summary>
    private async Task<bool> FeedAsync(string type)
    {
        switch (type)
        {
            case "otlp":
                await PostAsync(_receiverHttpPort, "v1/traces", SampleData.Traces(2));
                await PostAsync(_receiverHttpPort, "v1/metrics", SampleData.Metrics(2));
                await PostAsync(_receiverHttpPort, "v1/logs", SampleData.Logs(2));
                return true;
            case "otlpjsonfile":
                await File.WriteAllLinesAsync(Path.Combine(_directory, "input-1.jsonl"),
                    [Otlp.Json.OtlpJson.ToJson(SampleData.Traces(2)), Otlp.Json.OtlpJson.ToJson(SampleData.Metrics(2)), Otlp.Json.OtlpJson.ToJson(SampleData.Logs(2))]);
                return true;
            default:
                return false; // ebpf replays an empty recording: starting and stopping cleanly is what is checked
        }
    }

    private static async Task PostAsync(int port, string path, IMessage message)
    {
        using var http = new HttpClient();
        using var content = new ByteArrayContent(message.ToByteArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        using var response = await http.PostAsync($"http://127.0.0.1:{port}/{path}", content);
        response.EnsureSuccessStatusCode();
    }

    private async Task CheckExtensionAsync(IExtensionFactory factory, ComponentConfig config)
    {
        var extension = factory.CreateExtension(Settings(factory), config);
        await extension.StartAsync(new TestHost(), CancellationToken.None);
        await ShutdownTwiceAsync(extension);
    }

    /// <summary>An <c>otelai ebpf record</c> file with its 32-byte header and no records (the format is in RecordFile.cs).</summary>
    private string EmptyRecording()
    {
        var path = Path.Combine(_directory, "empty.ebpfrec");
        var header = new byte[32];
        "OTAIEBPF"u8.CopyTo(header);
        header[8] = 1; // version, little-endian
        File.WriteAllBytes(path, header);
        return path;
    }
}
