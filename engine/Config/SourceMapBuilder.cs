namespace OtelAi.Engine.Config;

/// <summary>Records where every key path of the final tree was written: keys at the key, list items at the item.</summary>
internal static class SourceMapBuilder
{
    public static ConfigSourceMap Build(ConfigNode root)
    {
        var locations = new Dictionary<string, SourceLocation>();
        Visit(root, "", locations);
        return new ConfigSourceMap(locations);
    }

    private static void Visit(ConfigNode node, string path, Dictionary<string, SourceLocation> locations)
    {
        switch (node)
        {
            case MappingNode mapping:
                foreach (var entry in mapping.Entries)
                {
                    var child = KeyPath.Child(path, entry.Key);
                    locations[child] = entry.KeyLocation;
                    Visit(entry.Value, child, locations);
                }
                break;
            case SequenceNode sequence:
                for (var i = 0; i < sequence.Items.Count; i++)
                {
                    var item = KeyPath.Item(path, i);
                    locations[item] = sequence.Items[i].Location;
                    Visit(sequence.Items[i], item, locations);
                }
                break;
        }
    }
}
