using System.Text.RegularExpressions;

namespace OtelAi.Engine.Components;

/// <summary>A component id as otelcol writes it: <c>type</c> or <c>type/name</c>.</summary>
public readonly partial record struct ComponentId(string Type, string Name = "")
{
    [GeneratedRegex("^[a-zA-Z][0-9a-zA-Z_]{0,62}$")]
    private static partial Regex TypePattern();

    public static bool IsValidType(string type) => TypePattern().IsMatch(type);

    /// <summary>Parses <c>type[/name]</c>; the error says what is wrong.</summary>
    public static bool TryParse(string text, out ComponentId id, out string? error)
    {
        id = default;
        var slash = text.IndexOf('/');
        var type = slash < 0 ? text : text[..slash];
        var name = slash < 0 ? "" : text[(slash + 1)..];
        if (!IsValidType(type))
        {
            error = $"invalid component type \"{type}\": must match ^[a-zA-Z][0-9a-zA-Z_]{{0,62}}$";
            return false;
        }
        if (slash >= 0 && (name.Length == 0 || name.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))))
        {
            error = $"invalid component name \"{name}\" in \"{text}\": must be non-empty, without spaces";
            return false;
        }
        id = new ComponentId(type, name);
        error = null;
        return true;
    }

    public static ComponentId Parse(string text) =>
        TryParse(text, out var id, out var error) ? id : throw new FormatException(error);

    public override string ToString() => Name.Length == 0 ? Type : $"{Type}/{Name}";
}

public enum ComponentKind
{
    Receiver,
    Processor,
    Exporter,
    Connector,
    Extension,
}

/// <summary>otelcol's stability levels, shown by <c>otelai components</c>.</summary>
public enum StabilityLevel
{
    Undefined,
    Unmaintained,
    Deprecated,
    Development,
    Alpha,
    Beta,
    Stable,
}
