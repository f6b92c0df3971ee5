namespace OtelAi.Engine.Config;

/// <summary>
/// otelcol's merge of several config sources: mappings are merged key by key (recursively), anything else in a
/// later source, lists and nulls included, replaces the earlier value.
/// </summary>
internal static class Merger
{
    public static ConfigNode Merge(ConfigNode earlier, ConfigNode later)
    {
        if (earlier is not MappingNode baseMap || later is not MappingNode overlay) return later;
        var entries = baseMap.Entries.ToList();
        foreach (var entry in overlay.Entries)
        {
            var index = entries.FindIndex(e => e.Key == entry.Key);
            if (index < 0) entries.Add(entry);
            else entries[index] = entry with { Value = Merge(entries[index].Value, entry.Value) };
        }
        return new MappingNode(entries, overlay.Location);
    }
}
