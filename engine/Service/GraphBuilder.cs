using Google.Protobuf;
using Microsoft.Extensions.Logging;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;

namespace OtelAi.Engine.Service;

/// <summary>A built component and how the service names it in logs and errors.</summary>
internal sealed record BuiltComponent(ComponentSpec Spec, IComponent Instance, string Description);

/// <summary>
/// Instantiates a validated <see cref="GraphPlan"/> back to front, so every consumer exists before whatever feeds it:
/// exporters once per (id, signal), then per pipeline its connectors' downstream pipelines, the connectors, and the
/// processors from last to first, then receivers once per id with a fan-out over the pipelines that list them.
/// The creation order is the start order: every component starts after everything it sends data to.
/// </summary>
internal sealed class GraphBuilder
{
    private readonly GraphPlan _plan;
    private readonly ILoggerFactory _loggers;
    private readonly MetricRegistry _metrics;
    private readonly SharedComponents _shared;
    private readonly Dictionary<(ComponentId, Signal), object> _exporters = new();
    private readonly Dictionary<(ComponentId, Signal, Signal), object> _connectors = new();
    private readonly Dictionary<PipelineId, object> _pipelineEntries = new();
    private readonly List<BuiltComponent> _order = [];
    // Where edge counts go: the service's metrics under telemetry.newPipelineTelemetry, else the live page's own
    // registry when a live page is configured, else nowhere (nothing is added to the data path).
    private readonly MetricRegistry? _edgeMetrics;
    private readonly TapHub? _taps;

    private GraphBuilder(GraphPlan plan, ILoggerFactory loggers, MetricRegistry metrics, SharedComponents shared, LiveView? live)
    {
        _plan = plan;
        _edgeMetrics = live?.EdgeMetrics ?? (plan.FeatureGates.IsEnabled(FeatureGates.NewPipelineTelemetry) ? metrics : null);
        _taps = live?.Taps;
        _loggers = loggers;
        _metrics = metrics;
        _shared = shared;
    }

    /// <summary>Every component of the plan, in start order (extensions, exporters, connectors and processors downstream first, receivers).</summary>
    /// <param name="live">The live page's counters and taps, when one is configured.</param>
    public static IReadOnlyList<BuiltComponent> Build(GraphPlan plan, ILoggerFactory loggers, MetricRegistry metrics, SharedComponents shared, LiveView? live = null)
    {
        var builder = new GraphBuilder(plan, loggers, metrics, shared, live);
        foreach (var spec in plan.Extensions)
            builder._order.Add(new BuiltComponent(spec,
                Create(spec.Describe(), () => ((IExtensionFactory)spec.Factory).CreateExtension(builder.Settings(spec), spec.Config)), spec.Describe()));
        foreach (var pipeline in plan.Pipelines.Values)
            foreach (var target in pipeline.Targets.Where(t => !t.IsConnector))
                builder.Exporter(target.Component, pipeline.Id.Signal);
        foreach (var pipeline in plan.Pipelines.Keys)
            builder.PipelineEntry(pipeline);
        foreach (var spec in plan.Receivers)
            builder.Receiver(spec);
        return builder._order;
    }

    private void Receiver(ComponentSpec spec)
    {
        var consumers = new ReceiverConsumers(
            ReceiverFanOut<ExportTraceServiceRequest>(spec.Id, Signal.Traces),
            ReceiverFanOut<ExportMetricsServiceRequest>(spec.Id, Signal.Metrics),
            ReceiverFanOut<ExportLogsServiceRequest>(spec.Id, Signal.Logs));
        var receiver = Create(spec.Describe(), () => ((IReceiverFactory)spec.Factory).CreateReceiver(Settings(spec), spec.Config, consumers));
        _order.Add(new BuiltComponent(spec, receiver, spec.Describe()));
    }

    private ITelemetryConsumer<T>? ReceiverFanOut<T>(ComponentId receiver, Signal signal) where T : class, IMessage<T>, new()
    {
        var entries = _plan.PipelinesReceivingFrom(receiver, signal).Select(p => (ITelemetryConsumer<T>)PipelineEntry(p)).ToList();
        return entries.Count == 0 ? null : Observed(FanOutConsumer<T>.Of(entries), PipelineTelemetry.ReceiverProduced, ComponentKind.Receiver, receiver, signal, tapped: true);
    }

    /// <summary>The consumer at the head of a pipeline (its first processor, or the fan-out to its exporters).</summary>
    private object PipelineEntry(PipelineId pipeline)
    {
        if (_pipelineEntries.TryGetValue(pipeline, out var entry)) return entry;
        entry = pipeline.Signal switch
        {
            Signal.Traces => BuildPipeline<ExportTraceServiceRequest>(pipeline),
            Signal.Metrics => BuildPipeline<ExportMetricsServiceRequest>(pipeline),
            _ => BuildPipeline<ExportLogsServiceRequest>(pipeline),
        };
        _pipelineEntries[pipeline] = entry;
        return entry;
    }

    private ITelemetryConsumer<T> BuildPipeline<T>(PipelineId pipeline) where T : class, IMessage<T>, new()
    {
        var plan = _plan.Pipelines[pipeline];
        var targets = new List<ITelemetryConsumer<T>>();
        foreach (var target in plan.Targets)
        {
            if (!target.IsConnector)
                targets.Add((ITelemetryConsumer<T>)Exporter(target.Component, pipeline.Signal));
            else
                targets.AddRange(_plan.ConnectorRoutes
                    .Where(r => r.Connector.Id == target.Component.Id && r.From == pipeline.Signal)
                    .Select(r => (ITelemetryConsumer<T>)Connector(r)));
        }
        var next = FanOutConsumer<T>.Of(targets);
        for (var i = plan.Processors.Count - 1; i >= 0; i--)
        {
            var spec = plan.Processors[i];
            var description = $"{spec.Describe()} in pipeline \"{pipeline}\"";
            var chained = Observed(next, PipelineTelemetry.ProcessorProduced, ComponentKind.Processor, spec.Id, pipeline.Signal, pipeline, tapped: true);
            var processor = Create(description, () => ((IProcessorFactory)spec.Factory).CreateProcessor(Settings(spec), spec.Config, chained));
            _order.Add(new BuiltComponent(spec, processor, description));
            next = Observed(processor, PipelineTelemetry.ProcessorConsumed, ComponentKind.Processor, spec.Id, pipeline.Signal, pipeline);
        }
        return next;
    }

    private object Exporter(ComponentSpec spec, Signal signal)
    {
        if (_exporters.TryGetValue((spec.Id, signal), out var exporter)) return exporter;
        var factory = (IExporterFactory)spec.Factory;
        var settings = Settings(spec);
        var description = $"{spec.Describe()} ({signal.ToConfigName()})";
        var created = Create<IComponent>(description, () => signal switch
        {
            Signal.Traces => factory.CreateExporter<ExportTraceServiceRequest>(settings, spec.Config),
            Signal.Metrics => factory.CreateExporter<ExportMetricsServiceRequest>(settings, spec.Config),
            _ => factory.CreateExporter<ExportLogsServiceRequest>(settings, spec.Config),
        });
        _order.Add(new BuiltComponent(spec, created, description));
        var consumer = signal switch
        {
            Signal.Traces => Observed((ITelemetryConsumer<ExportTraceServiceRequest>)created, PipelineTelemetry.ExporterConsumed, ComponentKind.Exporter, spec.Id, signal, tapped: true),
            Signal.Metrics => Observed((ITelemetryConsumer<ExportMetricsServiceRequest>)created, PipelineTelemetry.ExporterConsumed, ComponentKind.Exporter, spec.Id, signal, tapped: true),
            _ => (object)Observed((ITelemetryConsumer<ExportLogsServiceRequest>)created, PipelineTelemetry.ExporterConsumed, ComponentKind.Exporter, spec.Id, signal, tapped: true),
        };
        _exporters[(spec.Id, signal)] = consumer;
        return consumer;
    }

    private object Connector(ConnectorRoute route)
    {
        var key = (route.Connector.Id, route.From, route.To);
        if (_connectors.TryGetValue(key, out var connector)) return connector;
        connector = route.From switch
        {
            Signal.Traces => Connector<ExportTraceServiceRequest>(route),
            Signal.Metrics => Connector<ExportMetricsServiceRequest>(route),
            _ => Connector<ExportLogsServiceRequest>(route),
        };
        _connectors[key] = connector;
        return connector;
    }

    private ITelemetryConsumer<TIn> Connector<TIn>(ConnectorRoute route) where TIn : class, IMessage<TIn>, new() => route.To switch
    {
        Signal.Traces => Connector<TIn, ExportTraceServiceRequest>(route),
        Signal.Metrics => Connector<TIn, ExportMetricsServiceRequest>(route),
        _ => Connector<TIn, ExportLogsServiceRequest>(route),
    };

    private ITelemetryConsumer<TIn> Connector<TIn, TOut>(ConnectorRoute route)
        where TIn : class, IMessage<TIn>, new()
        where TOut : class, IMessage<TOut>, new()
    {
        var spec = route.Connector;
        var next = Observed(FanOutConsumer<TOut>.Of(route.Downstream.Select(p => (ITelemetryConsumer<TOut>)PipelineEntry(p)).ToList()),
            PipelineTelemetry.ConnectorProduced, ComponentKind.Connector, spec.Id, route.From, output: route.To, tapped: true);
        var description = $"{spec.Describe()} ({route.From.ToConfigName()} → {route.To.ToConfigName()})";
        var connector = Create(description, () => ((IConnectorFactory)spec.Factory).CreateConnector<TIn, TOut>(Settings(spec), spec.Config, next));
        _order.Add(new BuiltComponent(spec, connector, description));
        return Observed(connector, PipelineTelemetry.ConnectorConsumed, ComponentKind.Connector, spec.Id, route.From, output: route.To);
    }

    /// <summary>
    /// The consumer, counted when edges are counted (and, if <paramref name="tapped"/>, tappable from the live page:
    /// a component's output, an exporter's input); else itself (nothing on the data path).
    /// </summary>
    private ITelemetryConsumer<T> Observed<T>(ITelemetryConsumer<T> consumer, SelfMetric metric, ComponentKind kind, ComponentId id, Signal signal,
        PipelineId? pipeline = null, Signal? output = null, bool tapped = false) where T : class, IMessage<T>, new()
    {
        if (_edgeMetrics is null) return consumer;
        var tap = tapped ? _taps?.Point(LiveView.NodeName(kind, id), pipeline?.ToString() ?? "", output ?? signal) : null;
        return PipelineTelemetry.Observe(consumer, _edgeMetrics, metric, kind, id, signal, pipeline, output, tap);
    }

    private static T Create<T>(string description, Func<T> create)
    {
        try { return create(); }
        catch (Exception ex) { throw new ComponentCreateException(description, ex); }
    }

    private ComponentCreateSettings Settings(ComponentSpec spec) =>
        new(spec.Id, spec.Kind, _loggers.CreateLogger(LogCategory(spec.Kind, spec.Id)), _metrics, BuildInfo.Current) { Shared = _shared, FeatureGates = _plan.FeatureGates };

    /// <summary>Logger category of a component: <c>kind/id</c>, e.g. <c>exporter/otlp/backup</c>.</summary>
    public static string LogCategory(ComponentKind kind, ComponentId id) => $"{kind.ToString().ToLowerInvariant()}/{id}";
}
