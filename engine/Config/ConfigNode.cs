namespace OtelAi.Engine.Config;

/// <summary>
/// A YAML value with the place it came from. The loader works on this tree (rather than on YamlDotNet's) so that
/// nodes from several files and from <c>--set</c> can be merged while each keeps its own file, line and column.
/// </summary>
internal abstract record ConfigNode(SourceLocation Location)
{
    /// <summary>What the node is, for "expected X, got Y" messages.</summary>
    public abstract string Describe();
}

/// <summary>A scalar; <see cref="Value"/> is null for YAML null (<c>~</c>, <c>null</c>, or nothing after the colon).</summary>
internal sealed record ScalarNode(string? Value, bool Quoted, SourceLocation Location) : ConfigNode(Location)
{
    public bool IsNull => Value is null;

    public override string Describe() => Value is null ? "null" : $"\"{Value}\"";
}

internal sealed record SequenceNode(IReadOnlyList<ConfigNode> Items, SourceLocation Location) : ConfigNode(Location)
{
    public override string Describe() => "a list";
}

/// <summary>A mapping entry: the key text, where the key is written, and its value.</summary>
internal sealed record MappingEntry(string Key, SourceLocation KeyLocation, ConfigNode Value);

/// <summary>A mapping with its entries in document order (keys are unique).</summary>
internal sealed record MappingNode(IReadOnlyList<MappingEntry> Entries, SourceLocation Location) : ConfigNode(Location)
{
    public override string Describe() => "a mapping";

    public MappingEntry? Find(string key)
    {
        foreach (var entry in Entries)
            if (entry.Key == key) return entry;
        return null;
    }
}

/// <summary>Key paths as otelcol users write them: <c>receivers.otlp.protocols</c>, <c>service.pipelines.traces.exporters[1]</c>.</summary>
internal static class KeyPath
{
    public static string Child(string parent, string key) => parent.Length == 0 ? key : $"{parent}.{key}";

    public static string Item(string parent, int index) => $"{parent}[{index}]";
}

internal static class ConfigNodeExtensions
{
    /// <summary>A copy of the tree with every location (keys included) passed through <paramref name="map"/>.</summary>
    public static ConfigNode WithLocations(this ConfigNode node, Func<SourceLocation, SourceLocation> map) => node switch
    {
        ScalarNode scalar => scalar with { Location = map(scalar.Location) },
        SequenceNode sequence => new SequenceNode(sequence.Items.Select(i => i.WithLocations(map)).ToList(), map(sequence.Location)),
        MappingNode mapping => new MappingNode(
            mapping.Entries.Select(e => new MappingEntry(e.Key, map(e.KeyLocation), e.Value.WithLocations(map))).ToList(),
            map(mapping.Location)),
        _ => node,
    };
}
