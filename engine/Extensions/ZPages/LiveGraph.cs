using System.Text.Json;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Service;

namespace OtelAi.Engine.Extensions.ZPages;

/// <summary>A node of the live page's graph: a receiver, exporter or connector once, a processor once per pipeline.</summary>
internal sealed record LiveNode(string Id, ComponentKind Kind, ComponentId Component, string Pipeline)
{
    /// <summary><c>kind/id</c>: what the tap and the component API take.</summary>
    public string Name => LiveView.NodeName(Kind, Component);
}

internal sealed record LiveEdge(string From, string To, string Pipeline);

/// <summary>The running pipelines as a graph: receivers → processors (per pipeline) → exporters, connectors joining pipelines.</summary>
internal sealed class LiveGraph
{
    private LiveGraph(IReadOnlyList<LiveNode> nodes, IReadOnlyList<LiveEdge> edges, IReadOnlyList<PipelineId> pipelines)
    {
        Nodes = nodes;
        Edges = edges;
        Pipelines = pipelines;
    }

    public IReadOnlyList<LiveNode> Nodes { get; }

    public IReadOnlyList<LiveEdge> Edges { get; }

    public IReadOnlyList<PipelineId> Pipelines { get; }

    public static LiveGraph Of(ServiceConfig config)
    {
        var nodes = new Dictionary<string, LiveNode>(StringComparer.Ordinal);
        var edges = new List<LiveEdge>();
        LiveNode Node(ComponentKind kind, ComponentId id, string pipeline = "")
        {
            if (config.Connectors.ContainsKey(id) && kind is ComponentKind.Receiver or ComponentKind.Exporter) kind = ComponentKind.Connector;
            var name = LiveView.NodeName(kind, id);
            var key = pipeline.Length == 0 ? name : $"{name}@{pipeline}";
            if (!nodes.TryGetValue(key, out var node)) nodes[key] = node = new LiveNode(key, kind, id, pipeline);
            return node;
        }
        var pipelines = config.Pipelines.Keys.OrderBy(p => p.Signal).ThenBy(p => p.Name, StringComparer.Ordinal).ToList();
        foreach (var id in pipelines)
        {
            var pipeline = config.Pipelines[id];
            var name = id.ToString();
            IReadOnlyList<LiveNode> previous = [.. pipeline.Receivers.Select(r => Node(ComponentKind.Receiver, r))];
            foreach (var processor in pipeline.Processors)
            {
                var node = Node(ComponentKind.Processor, processor, name);
                edges.AddRange(previous.Select(p => new LiveEdge(p.Id, node.Id, name)));
                previous = [node];
            }
            foreach (var exporter in pipeline.Exporters)
            {
                var node = Node(ComponentKind.Exporter, exporter);
                edges.AddRange(previous.Select(p => new LiveEdge(p.Id, node.Id, name)));
            }
        }
        return new LiveGraph([.. nodes.Values], edges, pipelines);
    }

    public void WriteJson(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteStartArray("pipelines");
        foreach (var pipeline in Pipelines) writer.WriteStringValue(pipeline.ToString());
        writer.WriteEndArray();
        writer.WriteStartArray("nodes");
        foreach (var node in Nodes)
        {
            writer.WriteStartObject();
            writer.WriteString("id", node.Id);
            writer.WriteString("kind", node.Kind.ToString().ToLowerInvariant());
            writer.WriteString("component", node.Name);
            writer.WriteString("type", node.Component.Type);
            if (node.Pipeline.Length > 0) writer.WriteString("pipeline", node.Pipeline);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteStartArray("edges");
        foreach (var edge in Edges)
        {
            writer.WriteStartObject();
            writer.WriteString("from", edge.From);
            writer.WriteString("to", edge.To);
            writer.WriteString("pipeline", edge.Pipeline);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}
