using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace OtelAi.Engine.Config;

/// <summary>Parses YAML text into a <see cref="ConfigNode"/> tree whose nodes know their file, line and column.</summary>
internal static class YamlReader
{
    private const string StringTag = "tag:yaml.org,2002:str";
    private const string NullTag = "tag:yaml.org,2002:null";

    /// <summary>
    /// Reads one YAML document. Returns null and records an issue when the text is not valid YAML.
    /// An empty document is an empty mapping when <paramref name="requireMapping"/> is set, else a null scalar.
    /// </summary>
    public static ConfigNode? Read(string text, string sourceName, ConfigIssues issues, bool requireMapping = true)
    {
        var stream = new YamlStream();
        var parser = new Parser(new StringReader(text));
        ConfigNode? root;
        try
        {
            stream.Load(new DuplicateKeyParser(parser));
            if (stream.Documents.Count > 1)
            {
                issues.Error("", "a config holds one YAML document; found a second one (\"---\")", At(sourceName, stream.Documents[1].RootNode.Start));
                return null;
            }
            root = stream.Documents.Count == 0 ? null : Convert(stream.Documents[0].RootNode, new Reading(sourceName, issues), "");
        }
        catch (YamlException e)
        {
            // YamlDotNet may place a tab error where the enclosing mapping starts: then the first indenting tab anywhere is it.
            var lastLine = e.Message.Contains("tab", StringComparison.OrdinalIgnoreCase) ? int.MaxValue - 1 : (int)Math.Max(e.Start.Line, e.End.Line);
            if (IndentingTab(text, lastLine) is { } tab)
                issues.Error("", "invalid YAML: a tab character indents this line; YAML is indented with spaces", tab with { File = sourceName });
            else
                issues.Error("", Readable(e), At(sourceName, e.Start));
            return null;
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner fails this way on some unclosed flow collections ("[a, b" followed by more lines).
            var last = parser.Current?.Start;
            issues.Error("", "invalid YAML: cannot parse past this point; is a [ or { left unclosed?",
                last is null ? new SourceLocation(sourceName, 1, 1) : At(sourceName, last.Value));
            return null;
        }

        var start = new SourceLocation(sourceName, 1, 1);
        if (!requireMapping) return root ?? new ScalarNode(null, false, start);
        switch (root)
        {
            case null:
            case ScalarNode { IsNull: true }:
                return new MappingNode([], root?.Location ?? start);
            case MappingNode:
                return root;
            default:
                issues.Error("", $"expected a mapping of top-level keys, got {root.Describe()}", root.Location);
                return null;
        }
    }

    /// <summary>
    /// Most nodes a document may expand to. Aliases repeat the node they name, so a few lines of nested aliases
    /// ("billion laughs") would expand without end; real configs have a few thousand nodes.
    /// </summary>
    internal const int MaxNodes = 200_000;

    /// <summary>One document's conversion: its source name, where duplicate keys are reported, and the node budget.</summary>
    private sealed class Reading(string sourceName, ConfigIssues issues)
    {
        public string SourceName { get; } = sourceName;
        public ConfigIssues Issues { get; } = issues;
        public int Used;
    }

    private static ConfigNode Convert(YamlNode node, Reading reading, string path)
    {
        var sourceName = reading.SourceName;
        if (++reading.Used > MaxNodes)
            throw new YamlException(node.Start, node.End, $"the document expands to more than {MaxNodes.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} nodes; are aliases (*name) nested into each other?");
        var location = At(sourceName, node.Start);
        switch (node)
        {
            case YamlScalarNode scalar:
                var quoted = scalar.Style is not ScalarStyle.Plain and not ScalarStyle.Any || HasTag(scalar, StringTag);
                var isNull = HasTag(scalar, NullTag) || (!quoted && IsPlainNull(scalar.Value));
                return new ScalarNode(isNull ? null : scalar.Value ?? "", quoted, location);
            case YamlSequenceNode sequence:
                return new SequenceNode(sequence.Children.Select((c, i) => Convert(c, reading, KeyPath.Item(path, i))).ToList(), location);
            case YamlMappingNode mapping:
                return ConvertMapping(mapping, reading, location, path);
            default:
                throw new InvalidOperationException($"unexpected YAML node {node.GetType().Name}");
        }
    }

    /// <summary>
    /// A mapping, with YAML merge keys (<c>&lt;&lt;: *defaults</c>, which Go's yaml and so otelcol honour) resolved:
    /// the merged mappings' entries fill in keys the mapping does not set itself, earlier merged mappings first.
    /// </summary>
    private static MappingNode ConvertMapping(YamlMappingNode mapping, Reading reading, SourceLocation location, string path)
    {
        var sourceName = reading.SourceName;
        var taken = mapping.Children.Keys.Where(k => !IsMergeKey(k)).Select(KeyText).ToHashSet();
        var entries = new List<MappingEntry>(mapping.Children.Count);
        foreach (var (key, value) in mapping.Children)
        {
            if (KeyText(key) is var text && text.StartsWith(DuplicateKeyParser.Marker, StringComparison.Ordinal))
            {
                var name = text[(text.IndexOf('\0', DuplicateKeyParser.Marker.Length) + 1)..];
                var first = mapping.Children.Keys.First(k => KeyText(k) == name);
                reading.Issues.Error(KeyPath.Child(path, name), $"duplicate key \"{name}\" (first set at line {first.Start.Line}); each key may appear once per mapping", At(sourceName, key.Start));
                continue;
            }
            if (!IsMergeKey(key))
            {
                entries.Add(new MappingEntry(text, At(sourceName, key.Start), Convert(value, reading, KeyPath.Child(path, text))));
                continue;
            }
            var sources = value is YamlSequenceNode list ? list.Children : [value];
            foreach (var source in sources)
            {
                if (Convert(source, reading, path) is not MappingNode merged)
                    throw new YamlException(key.Start, key.End, "the value of a merge key (<<) must be a mapping or a list of mappings");
                entries.AddRange(merged.Entries.Where(e => taken.Add(e.Key)));
            }
        }
        return new MappingNode(entries, location);
    }

    private static bool IsMergeKey(YamlNode key) =>
        key is YamlScalarNode { Value: "<<", Style: ScalarStyle.Plain or ScalarStyle.Any };

    // Keys are scalars in every otelcol config; a complex key is written back as its text.
    private static string KeyText(YamlNode key) => key is YamlScalarNode scalar ? scalar.Value ?? "" : key.ToString();

    private static bool HasTag(YamlNode node, string tag) => node.Tag is { IsEmpty: false, IsNonSpecific: false } && node.Tag.Value == tag;

    private static bool IsPlainNull(string? value) => value is null or "" or "~" or "null" or "Null" or "NULL";

    /// <summary>The first tab in a line's indentation up to just past the error line: YAML forbids them, YamlDotNet's message hides it.</summary>
    private static SourceLocation? IndentingTab(string text, int errorLine)
    {
        var lines = text.Split('\n');
        for (var i = 0; i < Math.Min(lines.Length, errorLine + 1); i++)
        {
            var indentation = lines[i].Length - lines[i].TrimStart(' ', '\t').Length;
            var tab = lines[i].IndexOf('\t', 0, indentation);
            if (tab >= 0) return new SourceLocation("", i + 1, tab + 1);
        }
        return null;
    }

    private static SourceLocation At(string sourceName, Mark mark) =>
        new(sourceName, (int)Math.Max(1, mark.Line), (int)Math.Max(1, mark.Column));

    /// <summary>YamlDotNet prefixes its messages with "(Line: 3, Col: 5, Idx: 20) - (Line: ...): "; the location is reported separately.</summary>
    private static string Readable(YamlException e)
    {
        var message = e.Message;
        var cut = message.IndexOf("): ", StringComparison.Ordinal);
        if (message.StartsWith("(Line:", StringComparison.Ordinal) && cut >= 0) message = message[(cut + 3)..];
        message = message.Trim().TrimEnd('.');
        if (message.Length > 0) message = char.ToLowerInvariant(message[0]) + message[1..];
        return $"invalid YAML: {message}";
    }
}
