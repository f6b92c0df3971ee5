using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Otlp;

namespace OtelAi.Engine.Service;

/// <summary>A component as configured: its id, the factory that builds it and its bound config.</summary>
internal sealed record ComponentSpec(ComponentId Id, ComponentKind Kind, IComponentFactory Factory, ComponentConfig Config)
{
    public string Describe() => $"{Kind.ToString().ToLowerInvariant()} \"{Id}\"";
}

/// <summary>Where a pipeline sends its output: an exporter, or a connector feeding other pipelines.</summary>
internal sealed record PipelineTarget(ComponentSpec Component)
{
    public bool IsConnector => Component.Kind == ComponentKind.Connector;
}

internal sealed record PipelinePlan(PipelineId Id, IReadOnlyList<ComponentSpec> Receivers, IReadOnlyList<ComponentSpec> Processors, IReadOnlyList<PipelineTarget> Targets);

/// <summary>One connector instance: otelcol builds one per (id, exporter-side signal, receiver-side signal).</summary>
internal sealed record ConnectorRoute(ComponentSpec Connector, Signal From, Signal To, IReadOnlyList<PipelineId> Downstream);

/// <summary>
/// The service graph as data, checked before anything is instantiated (as otelcol's service/internal/graph and
/// vector's topology builder do): which component feeds which, every reference resolved to a factory that supports
/// the signal, and no cycle through connectors. <see cref="GraphBuilder"/> turns it into running components.
/// </summary>
internal sealed class GraphPlan
{
    private GraphPlan(
        IReadOnlyList<ComponentSpec> extensions,
        IReadOnlyList<ComponentSpec> receivers,
        IReadOnlyDictionary<PipelineId, PipelinePlan> pipelines,
        IReadOnlyList<ConnectorRoute> connectorRoutes,
        IReadOnlyList<ConfigIssue> warnings,
        FeatureGates featureGates)
    {
        FeatureGates = featureGates;
        Extensions = extensions;
        Receivers = receivers;
        Pipelines = pipelines;
        ConnectorRoutes = connectorRoutes;
        Warnings = warnings;
    }

    /// <summary>Extensions to start, in <c>service.extensions</c> order.</summary>
    public IReadOnlyList<ComponentSpec> Extensions { get; }

    /// <summary>Receivers used by at least one pipeline (connectors excluded), each once.</summary>
    public IReadOnlyList<ComponentSpec> Receivers { get; }

    public IReadOnlyDictionary<PipelineId, PipelinePlan> Pipelines { get; }

    public IReadOnlyList<ConnectorRoute> ConnectorRoutes { get; }

    public IReadOnlyList<ConfigIssue> Warnings { get; }

    /// <summary>The gates the plan was checked under; the components are built with them.</summary>
    public FeatureGates FeatureGates { get; }

    /// <summary>Pipelines of <paramref name="signal"/> that list <paramref name="receiver"/> (a receiver or connector id).</summary>
    public IEnumerable<PipelineId> PipelinesReceivingFrom(ComponentId receiver, Signal signal) =>
        Pipelines.Values.Where(p => p.Id.Signal == signal && p.Receivers.Any(r => r.Id == receiver)).Select(p => p.Id);

    /// <summary>Every graph problem (errors and warnings) in <paramref name="config"/>; empty when it can run.</summary>
    public static IReadOnlyList<ConfigIssue> Validate(ServiceConfig config, ComponentRegistry registry) =>
        new Planner(config, registry).Run().Issues;

    /// <summary>The validated plan; throws <see cref="ConfigException"/> listing every error (and warning) otherwise.</summary>
    public static GraphPlan Create(ServiceConfig config, ComponentRegistry registry)
    {
        var (plan, issues) = new Planner(config, registry).Run();
        if (plan is null) throw new ConfigException(issues);
        return plan;
    }

    private sealed class Planner(ServiceConfig config, ComponentRegistry registry)
    {
        private readonly List<ConfigIssue> _issues = [];
        private readonly HashSet<string> _reportedPaths = [];
        private readonly Dictionary<(ComponentKind, ComponentId), ComponentSpec?> _specs = new();

        public (GraphPlan? Plan, IReadOnlyList<ConfigIssue> Issues) Run()
        {
            CheckSharedIds();
            var extensions = ResolveServiceExtensions();
            if (config.Pipelines.Count == 0 && !registry.FeatureGates.IsEnabled(FeatureGates.AllowNoPipelines))
                Error("service.pipelines", $"at least one pipeline must be configured (or start with --feature-gates={FeatureGates.AllowNoPipelines.Id} to run extensions only)");

            var pipelines = new Dictionary<PipelineId, PipelinePlan>();
            foreach (var (id, pipeline) in config.Pipelines)
                pipelines[id] = ResolvePipeline(id, pipeline);

            var routes = ResolveConnectorRoutes(pipelines);
            FindCycles(pipelines, routes);
            WarnUnused(pipelines);
            CheckListeners(extensions, pipelines);

            var receivers = pipelines.Values.SelectMany(p => p.Receivers)
                .Where(r => r.Kind == ComponentKind.Receiver).DistinctBy(r => r.Id).ToList();
            var hasErrors = _issues.Any(i => i.Severity == ConfigIssueSeverity.Error);
            var warnings = _issues.Where(i => i.Severity == ConfigIssueSeverity.Warning).ToList();
            return (hasErrors ? null : new GraphPlan(extensions, receivers, pipelines, routes, warnings, registry.FeatureGates), _issues);
        }

        /// <summary>Two listeners of running components on one port (and overlapping addresses) are refused before anything starts.</summary>
        private void CheckListeners(List<ComponentSpec> extensions, Dictionary<PipelineId, PipelinePlan> pipelines)
        {
            // In start order: self-telemetry, extensions, then the pipelines' components.
            var listeners = new List<(string Path, string Endpoint)>();
            if (!string.Equals(config.Telemetry.Metrics.Level, "none", StringComparison.OrdinalIgnoreCase) && config.Telemetry.Metrics.Address.Length > 0)
                listeners.Add(("service.telemetry.metrics.address", config.Telemetry.Metrics.Address));
            var running = extensions.Concat(pipelines.Values.SelectMany(p => p.Receivers.Concat(p.Processors).Concat(p.Targets.Select(t => t.Component)))).DistinctBy(s => (s.Kind, s.Id));
            foreach (var spec in running)
                if (spec.Config is IListenEndpoints component)
                    listeners.AddRange(component.ListenEndpoints().Select(l => ($"{Section(spec.Kind)}.{spec.Id}.{l.KeyPath}", l.Endpoint)));

            var bound = new List<(string Path, string Host, int Port)>();
            foreach (var (path, endpoint) in listeners)
            {
                if (!OtelAi.Otlp.Hosting.ServerHost.TryParseEndpoint(endpoint, out var host, out var port, out _) || port == 0) continue;
                var clash = bound.FirstOrDefault(b => b.Port == port && AddressesOverlap(b.Host, host));
                if (clash.Path is not null)
                    Error(path, $"port {port} is already used by {clash.Path} ({clash.Host}:{clash.Port}); give each listener its own port");
                else bound.Add((path, host, port));
            }
        }

        /// <summary>Wildcards overlap every address; localhost is the loopback addresses.</summary>
        private static bool AddressesOverlap(string a, string b)
        {
            static string Normal(string host) => host switch
            {
                "" or "0.0.0.0" or "::" or "*" => "*",
                "localhost" or "127.0.0.1" or "::1" => "loopback",
                _ => host.ToLowerInvariant(),
            };
            var (x, y) = (Normal(a), Normal(b));
            return x == "*" || y == "*" || x == y;
        }

        private void CheckSharedIds()
        {
            foreach (var id in config.Connectors.Keys)
            {
                if (config.Receivers.ContainsKey(id))
                    Error($"connectors.{id}", $"connector \"{id}\" has the same id as a receiver; connectors and receivers cannot share an id");
                if (config.Exporters.ContainsKey(id))
                    Error($"connectors.{id}", $"connector \"{id}\" has the same id as an exporter; connectors and exporters cannot share an id");
            }
        }

        private List<ComponentSpec> ResolveServiceExtensions()
        {
            var result = new List<ComponentSpec>();
            var seen = new HashSet<ComponentId>();
            for (var i = 0; i < config.ServiceExtensions.Count; i++)
            {
                var id = config.ServiceExtensions[i];
                var path = $"service.extensions[{i}]";
                if (!seen.Add(id))
                    Error(path, $"extension \"{id}\" is listed more than once");
                else if (!config.Extensions.ContainsKey(id))
                    Error(path, $"references extension \"{id}\" which is not configured{Configured(config.Extensions.Keys)}");
                else if (Spec(ComponentKind.Extension, id, config.Extensions[id]) is { } spec)
                    result.Add(spec);
            }
            return result;
        }

        private PipelinePlan ResolvePipeline(PipelineId id, PipelineConfig pipeline)
        {
            var path = $"service.pipelines.{id}";
            if (pipeline.Receivers.Count == 0) Error($"{path}.receivers", $"pipeline \"{id}\" must have at least one receiver");
            if (pipeline.Exporters.Count == 0) Error($"{path}.exporters", $"pipeline \"{id}\" must have at least one exporter");

            var receivers = ResolveList(pipeline.Receivers, $"{path}.receivers", "receiver", ref_ =>
                config.Receivers.TryGetValue(ref_, out var c) ? (ComponentKind.Receiver, c)
                : config.Connectors.TryGetValue(ref_, out c) ? (ComponentKind.Connector, c)
                : null);
            var processors = ResolveList(pipeline.Processors, $"{path}.processors", "processor", ref_ =>
                config.Processors.TryGetValue(ref_, out var c) ? (ComponentKind.Processor, c) : null);
            var exporters = ResolveList(pipeline.Exporters, $"{path}.exporters", "exporter", ref_ =>
                config.Exporters.TryGetValue(ref_, out var c) ? (ComponentKind.Exporter, c)
                : config.Connectors.TryGetValue(ref_, out c) ? (ComponentKind.Connector, c)
                : null);

            foreach (var (spec, itemPath) in receivers.Concat(processors).Concat(exporters))
            {
                if (spec.Kind != ComponentKind.Connector && !spec.Factory.Stability.ContainsKey(id.Signal))
                    Error(itemPath, $"{spec.Describe()} does not support {id.Signal.ToConfigName()} (it supports: {SupportedSignals(spec.Factory)})");
            }
            return new PipelinePlan(id,
                receivers.Select(r => r.Spec).ToList(),
                processors.Select(p => p.Spec).ToList(),
                exporters.Select(e => new PipelineTarget(e.Spec)).ToList());
        }

        private List<(ComponentSpec Spec, string Path)> ResolveList(
            IReadOnlyList<ComponentId> ids, string listPath, string role, Func<ComponentId, (ComponentKind, ComponentConfig)?> lookup)
        {
            var result = new List<(ComponentSpec, string)>();
            var seen = new HashSet<ComponentId>();
            for (var i = 0; i < ids.Count; i++)
            {
                var id = ids[i];
                var itemPath = $"{listPath}[{i}]";
                if (!seen.Add(id))
                {
                    Error(itemPath, $"references {role} \"{id}\" more than once");
                    continue;
                }
                if (lookup(id) is not { } found)
                {
                    Error(itemPath, $"references {role} \"{id}\" which is not configured{ConfiguredElsewhere(id, role)}");
                    continue;
                }
                if (Spec(found.Item1, id, found.Item2) is { } spec) result.Add((spec, itemPath));
            }
            return result;
        }

        private ComponentSpec? Spec(ComponentKind kind, ComponentId id, ComponentConfig componentConfig)
        {
            if (_specs.TryGetValue((kind, id), out var known)) return known;
            ComponentSpec? spec = null;
            if (!registry.TryGet(kind, id.Type, out var factory))
            {
                var kindName = kind.ToString().ToLowerInvariant();
                var known_ = registry.TypeNames(kind);
                Error($"{Section(kind)}.{id}", $"unknown {kindName} type \"{id.Type}\"; known types: {(known_.Count == 0 ? "(none)" : string.Join(", ", known_))}");
            }
            else if (!factory.ConfigType.IsInstanceOfType(componentConfig))
                Error($"{Section(kind)}.{id}", $"config of {kind.ToString().ToLowerInvariant()} \"{id}\" is a {componentConfig.GetType().Name}, expected {factory.ConfigType.Name}");
            else
                spec = new ComponentSpec(id, kind, factory, componentConfig);
            _specs[(kind, id)] = spec;
            return spec;
        }

        private List<ConnectorRoute> ResolveConnectorRoutes(Dictionary<PipelineId, PipelinePlan> pipelines)
        {
            var routes = new List<ConnectorRoute>();
            var connectors = pipelines.Values
                .SelectMany(p => p.Receivers.Concat(p.Targets.Select(t => t.Component)))
                .Where(c => c.Kind == ComponentKind.Connector).DistinctBy(c => c.Id);
            foreach (var connector in connectors)
            {
                var factory = (IConnectorFactory)connector.Factory;
                var exportingFrom = pipelines.Values.Where(p => p.Targets.Any(t => t.Component.Id == connector.Id)).ToList();
                var receivingInto = pipelines.Values.Where(p => p.Receivers.Any(r => r.Id == connector.Id)).ToList();

                foreach (var from in exportingFrom.Select(p => p.Id.Signal).Distinct())
                    foreach (var to in receivingInto.Select(p => p.Id.Signal).Distinct())
                        if (factory.SupportedRoutes.ContainsKey((from, to)))
                            routes.Add(new ConnectorRoute(connector, from, to, receivingInto.Where(p => p.Id.Signal == to).Select(p => p.Id).ToList()));

                foreach (var pipeline in exportingFrom)
                {
                    if (routes.Any(r => r.Connector.Id == connector.Id && r.From == pipeline.Id.Signal)) continue;
                    var index = pipeline.Targets.ToList().FindIndex(t => t.Component.Id == connector.Id);
                    Error($"service.pipelines.{pipeline.Id}.exporters[{index}]",
                        $"connector \"{connector.Id}\" is used as exporter in {pipeline.Id.Signal.ToConfigName()} pipeline \"{pipeline.Id}\" " +
                        $"but not used in any supported receiver pipeline (it routes: {Routes(factory)})");
                }
                foreach (var pipeline in receivingInto)
                {
                    if (routes.Any(r => r.Connector.Id == connector.Id && r.To == pipeline.Id.Signal)) continue;
                    var index = pipeline.Receivers.ToList().FindIndex(r => r.Id == connector.Id);
                    Error($"service.pipelines.{pipeline.Id}.receivers[{index}]",
                        $"connector \"{connector.Id}\" is used as receiver in {pipeline.Id.Signal.ToConfigName()} pipeline \"{pipeline.Id}\" " +
                        $"but not used in any supported exporter pipeline (it routes: {Routes(factory)})");
                }
            }
            return routes;
        }

        // Pipelines feed each other only through connectors; data must never come back to where it started.
        private void FindCycles(Dictionary<PipelineId, PipelinePlan> pipelines, List<ConnectorRoute> routes)
        {
            var edges = pipelines.Keys.ToDictionary(p => p, p =>
                routes.Where(r => r.From == p.Signal && pipelines[p].Targets.Any(t => t.Component.Id == r.Connector.Id))
                    .SelectMany(r => r.Downstream.Select(next => (Connector: r.Connector.Id, Next: next)))
                    .ToList());
            var state = pipelines.Keys.ToDictionary(p => p, _ => 0); // 0 unvisited, 1 on the DFS stack, 2 done
            var stack = new List<(PipelineId Pipeline, ComponentId Via)>();
            var reported = new HashSet<string>();

            void Visit(PipelineId pipeline)
            {
                state[pipeline] = 1;
                foreach (var (connector, next) in edges[pipeline])
                {
                    stack.Add((pipeline, connector));
                    if (state[next] == 1) ReportCycle(next);
                    else if (state[next] == 0) Visit(next);
                    stack.RemoveAt(stack.Count - 1);
                }
                state[pipeline] = 2;
            }

            void ReportCycle(PipelineId closesAt)
            {
                var loop = stack.Skip(stack.FindIndex(s => s.Pipeline == closesAt)).ToList();
                var key = string.Join(",", loop.Select(s => $"{s.Pipeline}>{s.Via}").Order(StringComparer.Ordinal));
                if (!reported.Add(key)) return;
                var text = string.Join(" → ", loop.Select(s => $"pipeline \"{s.Pipeline}\" → connector \"{s.Via}\"")) + $" → pipeline \"{closesAt}\"";
                var first = loop[0];
                var index = pipelines[first.Pipeline].Targets.ToList().FindIndex(t => t.Component.Id == first.Via);
                Error($"service.pipelines.{first.Pipeline}.exporters[{index}]", $"cycle through connectors: {text}");
            }

            foreach (var pipeline in pipelines.Keys.OrderBy(p => p.ToString(), StringComparer.Ordinal))
                if (state[pipeline] == 0) Visit(pipeline);
        }

        private void WarnUnused(Dictionary<PipelineId, PipelinePlan> pipelines)
        {
            var used = pipelines.Values
                .SelectMany(p => p.Receivers.Concat(p.Processors).Concat(p.Targets.Select(t => t.Component)))
                .Select(c => (c.Kind, c.Id)).ToHashSet();
            // References that failed to resolve are already errors; only warn about ids no pipeline names at all.
            var named = config.Pipelines.Values.SelectMany(p => p.Receivers.Concat(p.Processors).Concat(p.Exporters)).ToHashSet();
            void Check(ComponentKind kind, IEnumerable<ComponentId> ids)
            {
                foreach (var id in ids)
                    if (!used.Contains((kind, id)) && !named.Contains(id))
                        Warning($"{Section(kind)}.{id}", $"{kind.ToString().ToLowerInvariant()} \"{id}\" is configured but not used in any pipeline");
            }
            Check(ComponentKind.Receiver, config.Receivers.Keys);
            Check(ComponentKind.Processor, config.Processors.Keys);
            Check(ComponentKind.Exporter, config.Exporters.Keys);
            Check(ComponentKind.Connector, config.Connectors.Keys);
            foreach (var id in config.Extensions.Keys.Where(id => !config.ServiceExtensions.Contains(id)))
                Warning($"extensions.{id}", $"extension \"{id}\" is configured but not listed in service.extensions");
        }

        private string ConfiguredElsewhere(ComponentId id, string role)
        {
            var elsewhere = new (string Kind, bool Has)[]
            {
                ("receiver", config.Receivers.ContainsKey(id)), ("processor", config.Processors.ContainsKey(id)),
                ("exporter", config.Exporters.ContainsKey(id)), ("connector", config.Connectors.ContainsKey(id)),
                ("extension", config.Extensions.ContainsKey(id)),
            }.Where(k => k.Has && k.Kind != role).Select(k => k.Kind).ToList();
            return elsewhere.Count > 0 ? $" (\"{id}\" is configured as {string.Join(" and ", elsewhere.Select(k => (k[0] is 'e' ? "an " : "a ") + k))})" : "";
        }

        private static string Configured(IEnumerable<ComponentId> ids)
        {
            var list = ids.Select(i => i.ToString()).Order(StringComparer.Ordinal).ToList();
            return list.Count == 0 ? "" : $" (configured: {string.Join(", ", list)})";
        }

        private static string SupportedSignals(IComponentFactory factory) =>
            factory.Stability.Count == 0 ? "none" : string.Join(", ", factory.Stability.Keys.Order().Select(s => s.ToConfigName()));

        private static string Routes(IConnectorFactory factory) =>
            string.Join(", ", factory.SupportedRoutes.Keys.Select(r => $"{r.From.ToConfigName()}→{r.To.ToConfigName()}"));

        private static string Section(ComponentKind kind) => kind switch
        {
            ComponentKind.Receiver => "receivers",
            ComponentKind.Processor => "processors",
            ComponentKind.Exporter => "exporters",
            ComponentKind.Connector => "connectors",
            _ => "extensions",
        };

        private void Error(string path, string message) => Add(ConfigIssueSeverity.Error, path, message);

        private void Warning(string path, string message) => Add(ConfigIssueSeverity.Warning, path, message);

        private void Add(ConfigIssueSeverity severity, string path, string message)
        {
            if (_reportedPaths.Add($"{severity}|{path}|{message}"))
                _issues.Add(new ConfigIssue(severity, path, message, config.Source.Locate(path)));
        }
    }
}
