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
        var keys = text[..equals].Trim().Replace("::", ".").Split('.');
        if (keys.Any(k => k.Length == 0))
        {
            issues.Error("", $"--set \"{text}\" has an empty key in its path: write --set key.path=value", at);
            return null;
        }
        var valueText = text[(equals + 1)..].Trim();
        var value = YamlReader.Read(valueText, SourceName, issues, requireMapping: false);
        if (value is null) return null;
        // The value was parsed on its own: move its locations to where it sits in the --set text.
        var valueColumn = equals + 2;
        value = value.WithLocations(l => l.Line == 1 ? l with { Column = valueColumn + l.Column - 1 } : l);

        ConfigNode node = value;
        for (var i = keys.Length - 1; i >= 0; i--)
            node = new MappingNode([new MappingEntry(keys[i], at, node)], at);
        return (MappingNode)node;
    }
}
