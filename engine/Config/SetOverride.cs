namespace OtelAi.Engine.Config;

/// <summary>
/// One <c>--set key.path=value</c>, as otelcol reads it: the key path is split on <c>.</c> (or <c>::</c>), the
/// value is YAML; the result is a config source merged after the files.
/// </summary>
internal static class SetOverride
{
    public const string SourceName = "--set";

    public static MappingNode? Parse(string text, ConfigIssues issues)
    {
        var at = new SourceLocation(SourceName, 1, 1);
        var equals = text.IndexOf('=');
        if (equals < 0)
        {
            issues.Error("", $"--set \"{text}\" is missing \"=\": write --set key.path=value", at);
            return null;
        }
        var keys = KeySegments(text[..equals]);
        if (keys.Count == 0 || keys.Any(k => k.Key.Length == 0))
        {
            issues.Error("", $"--set \"{text}\" has an empty key in its path: write --set key.path=value", at);
            return null;
        }
        var rawValue = text[(equals + 1)..];
        var valueText = rawValue.Trim();
        var value = YamlReader.Read(valueText, SourceName, issues, requireMapping: false);
        if (value is null) return null;
        // The value was parsed on its own: move its locations to where it sits in the --set text.
        var valueColumn = equals + 2 + rawValue.Length - rawValue.TrimStart().Length;
        value = value.WithLocations(l => l.Line == 1 ? l with { Column = valueColumn + l.Column - 1 } : l);

        ConfigNode node = value;
        for (var i = keys.Count - 1; i >= 0; i--)
        {
            var keyAt = new SourceLocation(SourceName, 1, keys[i].Column);
            node = new MappingNode([new MappingEntry(keys[i].Key, keyAt, node)], keyAt);
        }
        return (MappingNode)node;
    }

    /// <summary>The keys of a path split on "." or "::", each with its 1-based column in the --set text.</summary>
    private static List<(string Key, int Column)> KeySegments(string path)
    {
        var segments = new List<(string, int)>();
        var start = 0;
        for (var i = 0; i <= path.Length; i++)
        {
            var separator = i == path.Length ? 0 : path[i] == '.' ? 1 : path.AsSpan(i).StartsWith("::") ? 2 : 0;
            if (separator == 0 && i < path.Length) continue;
            var raw = path[start..i];
            var trimmed = raw.TrimStart();
            segments.Add((trimmed.TrimEnd(), start + raw.Length - trimmed.Length + 1));
            start = i + separator;
            i += Math.Max(separator - 1, 0);
        }
        return segments;
    }
}
