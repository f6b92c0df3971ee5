using System.Text.RegularExpressions;
using OtelAi.Engine.Config;

namespace OtelAi.Exporters.PrometheusCommon;

/// <summary>otelcol's <c>resource_to_telemetry_conversion</c>: every resource attribute as a label of the resource's series.</summary>
public sealed record ResourceToTelemetryConfig : IConfigSection
{
    [ConfigDescription("Turn resource attributes into labels.")]
    public bool Enabled { get; init; }

    [ConfigDescription("Leave out service.name, service.namespace and service.instance.id (already job and instance).")]
    public bool ExcludeServiceAttributes { get; init; }

    public IEnumerable<ConfigError> Validate() => [];
}

/// <summary>The prometheus exporter's <c>resource_constant_labels</c>: which resource attributes become labels, by wildcard.</summary>
public sealed record ResourceConstantLabelsConfig : IConfigSection
{
    [ConfigDescription("Wildcard patterns (* matches any run of characters) of the attribute keys to include; empty with excluded set: all but those.")]
    public List<string> Included { get; init; } = [];

    [ConfigDescription("Wildcard patterns of attribute keys to leave out, overriding included.")]
    public List<string> Excluded { get; init; } = [];

    internal ResourceAttributeSelector? Selector =>
        Included.Count == 0 && Excluded.Count == 0 ? null : new ResourceAttributeSelector(Included.Count == 0 ? ["*"] : Included, Excluded);

    public IEnumerable<ConfigError> Validate() => [];
}

/// <summary>Which resource attributes are turned into series labels.</summary>
internal sealed class ResourceAttributeSelector(IReadOnlyList<string> included, IReadOnlyList<string> excluded)
{
    private static readonly string[] ServiceAttributes = ["service.name", "service.namespace", "service.instance.id"];
    private readonly Regex[] _included = [.. included.Select(Wildcard)];
    private readonly Regex[] _excluded = [.. excluded.Select(Wildcard)];

    public static ResourceAttributeSelector All(bool excludeServiceAttributes) => new(["*"], excludeServiceAttributes ? ServiceAttributes : []);

    public bool Selects(string key) => _included.Any(pattern => pattern.IsMatch(key)) && !_excluded.Any(pattern => pattern.IsMatch(key));

    private static Regex Wildcard(string pattern) =>
        new("^" + Regex.Escape(pattern).Replace("\\*", ".*", StringComparison.Ordinal) + "$", RegexOptions.CultureInvariant);
}
