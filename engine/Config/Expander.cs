using System.Text;
using System.Text.RegularExpressions;

namespace OtelAi.Engine.Config;

/// <summary>
/// otelcol's value expansion on scalar values (never keys): <c>${env:NAME}</c>, <c>${env:NAME:-default}</c>,
/// <c>${NAME}</c> (env is the default scheme), <c>$$</c> for a literal <c>$</c>; a bare <c>$NAME</c> stays as written.
/// A value that is exactly one reference takes the YAML type of what it expands to (so <c>${env:PORT}</c> binds
/// to an int, and an env var may hold a YAML list); an embedded reference must expand to a scalar.
/// Expanded text is itself expanded (an env var may refer to another), up to <see cref="MaxDepth"/> levels.
/// </summary>
internal sealed partial class Expander(Func<string, string?> environment, ConfigIssues issues)
{
    private const int MaxDepth = 100;
    private const string EnvScheme = "env";
    private const string DefaultSeparator = ":-";

    [GeneratedRegex("^[a-zA-Z_][a-zA-Z0-9_]*$")]
    private static partial Regex EnvNamePattern();

    [GeneratedRegex("^([A-Za-z][A-Za-z0-9+.-]+):(.*)$", RegexOptions.Singleline)]
    private static partial Regex SchemePattern();

    public ConfigNode Expand(ConfigNode node, string path) => Expand(node, path, depth: 0);

    private ConfigNode Expand(ConfigNode node, string path, int depth) => node switch
    {
        ScalarNode { Value: { } text } scalar when text.Contains('$') => ExpandScalar(scalar, text, path, depth),
        SequenceNode sequence => sequence with
        {
            Items = sequence.Items.Select((item, i) => Expand(item, KeyPath.Item(path, i), depth)).ToList(),
        },
        MappingNode mapping => mapping with
        {
            Entries = mapping.Entries.Select(e => e with { Value = Expand(e.Value, KeyPath.Child(path, e.Key), depth) }).ToList(),
        },
        _ => node,
    };

    private ConfigNode ExpandScalar(ScalarNode scalar, string text, string path, int depth)
    {
        if (depth >= MaxDepth)
        {
            issues.Error(path, $"too many recursive expansions (more than {MaxDepth}) in \"{text}\"", scalar.Location);
            return scalar with { Value = null };
        }
        if (text.StartsWith("${", StringComparison.Ordinal) && ReferenceEnd(text, 0) == text.Length - 1)
        {
            // The whole value is one reference: the result keeps the YAML type of the expanded text.
            var inner = ExpandText(text[2..^1], scalar, path, depth);
            return inner is null ? scalar with { Value = null } : Retype(Resolve(inner, scalar, path), scalar, path, depth);
        }
        var expanded = ExpandText(text, scalar, path, depth);
        return scalar with { Value = expanded, Quoted = true };
    }

    /// <summary>Expands every reference and escape in <paramref name="text"/>; null when a reference failed (already reported).</summary>
    private string? ExpandText(string text, ScalarNode scalar, string path, int depth)
    {
        var result = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c != '$' || i + 1 == text.Length) { result.Append(c); continue; }
            var next = text[i + 1];
            if (next == '$') { result.Append('$'); i++; continue; }
            var end = next == '{' ? ReferenceEnd(text, i) : -1;
            if (end < 0) { result.Append(c); continue; }
            var content = ExpandText(text[(i + 2)..end], scalar, path, depth);
            if (content is null) return null;
            var resolved = Resolve(content, scalar, path);
            if (resolved is ResolvedReference.Failed) return null;
            var embedded = EmbeddedText(resolved, scalar, path, depth);
            if (embedded is null) return null;
            result.Append(embedded);
            i = end;
        }
        return result.ToString();
    }

    /// <summary>Index of the <c>}</c> closing the <c>${</c> at <paramref name="start"/> (references may nest), or -1.</summary>
    private static int ReferenceEnd(string text, int start)
    {
        var depth = 0;
        for (var i = start; i < text.Length; i++)
        {
            if (text[i] == '$' && i + 1 < text.Length && text[i + 1] == '$') { i++; continue; }
            if (text[i] == '$' && i + 1 < text.Length && text[i + 1] == '{') { depth++; i++; continue; }
            if (text[i] == '}' && --depth == 0) return i;
        }
        return -1;
    }

    private abstract record ResolvedReference
    {
        public sealed record Value(string Text, bool ExplicitEmptyDefault) : ResolvedReference;
        public sealed record Unset(string Name) : ResolvedReference;
        public sealed record Failed : ResolvedReference;
    }

    private ResolvedReference Resolve(string reference, ScalarNode scalar, string path)
    {
        var scheme = EnvScheme;
        var opaque = reference;
        var match = SchemePattern().Match(reference);
        // "${NAME:-default}" has no scheme: NAME is an env var, as in "${env:NAME:-default}".
        if (match.Success && !match.Groups[2].Value.StartsWith('-'))
        {
            scheme = match.Groups[1].Value;
            opaque = match.Groups[2].Value;
        }
        if (scheme != EnvScheme)
        {
            issues.Error(path, $"unsupported expansion scheme \"{scheme}\" in \"${{{reference}}}\"; supported: ${{env:NAME}}, ${{env:NAME:-default}}, ${{NAME}}", scalar.Location);
            return new ResolvedReference.Failed();
        }
        var separator = opaque.IndexOf(DefaultSeparator, StringComparison.Ordinal);
        var name = separator < 0 ? opaque : opaque[..separator];
        var fallback = separator < 0 ? null : opaque[(separator + DefaultSeparator.Length)..];
        if (!EnvNamePattern().IsMatch(name))
        {
            issues.Error(path, $"environment variable \"{name}\" has an invalid name: must match ^[a-zA-Z_][a-zA-Z0-9_]*$", scalar.Location);
            return new ResolvedReference.Failed();
        }
        var value = environment(name);
        if (value is not null) return new ResolvedReference.Value(value, false);
        if (fallback is not null) return new ResolvedReference.Value(fallback, fallback.Length == 0);
        return new ResolvedReference.Unset(name);
    }

    /// <summary>The node a whole-value reference stands for: the expanded text read as YAML, itself expanded.</summary>
    private ConfigNode Retype(ResolvedReference resolved, ScalarNode scalar, string path, int depth)
    {
        switch (resolved)
        {
            case ResolvedReference.Value { ExplicitEmptyDefault: true }:
                return scalar with { Value = "", Quoted = true };
            case ResolvedReference.Value value:
                var node = ParseValue(value.Text, scalar).WithLocations(_ => scalar.Location);
                return Expand(node, path, depth + 1);
            case ResolvedReference.Unset unset:
                // As otelcol: the key reads as empty (null), so a component's default applies; said, since a
                // default endpoint or credential in place of a forgotten variable surprises.
                issues.Warning(path, $"environment variable \"{unset.Name}\" is not set: the key is empty, so its default applies (set the variable, or write ${{env:{unset.Name}:-value}})", scalar.Location);
                return scalar with { Value = null };
            default:
                return scalar with { Value = null };
        }
    }

    private string? EmbeddedText(ResolvedReference resolved, ScalarNode scalar, string path, int depth)
    {
        switch (resolved)
        {
            case ResolvedReference.Value value:
                var node = Expand(ParseValue(value.Text, scalar).WithLocations(_ => scalar.Location), path, depth + 1);
                if (node is ScalarNode expanded) return expanded.Value ?? "";
                issues.Error(path, $"a reference inside a longer string must expand to a scalar, got {node.Describe()}", scalar.Location);
                return null;
            case ResolvedReference.Unset unset:
                issues.Warning(path, $"environment variable \"{unset.Name}\" is not set: an empty string takes its place in \"{scalar.Value}\"", scalar.Location);
                return "";
            default:
                return "";
        }
    }

    /// <summary>otelcol reads an env var's value as YAML; text that is not valid YAML is taken as a plain string.</summary>
    private static ConfigNode ParseValue(string text, ScalarNode scalar)
    {
        var scratch = new ConfigIssues();
        var node = YamlReader.Read(text, scalar.Location.File, scratch, requireMapping: false);
        return node ?? new ScalarNode(text, true, scalar.Location);
    }
}
