namespace OtelAi.Engine.Config;

/// <summary>
/// Base of every component's config record. Properties bind from snake_case YAML keys derived from their names
/// (SendBatchSize → send_batch_size) unless <see cref="ConfigKeyAttribute"/> says otherwise; initialisers are the
/// defaults. Supported property types: string, bool, int, long, double, TimeSpan (otelcol durations "5s", "200ms"),
/// enums (by [ConfigKey] name or snake_case), nested records, List/IReadOnlyList, Dictionary&lt;string, T&gt;,
/// <see cref="ComponentId"/>, and <see cref="ConfigValue"/> for free-form sub-trees.
/// </summary>
public abstract record ComponentConfig : IConfigSection
{
    /// <summary>
    /// Checks rules across fields after binding. Paths are relative to the component's config (e.g. "endpoint");
    /// nested <see cref="IConfigSection"/> records are validated by the binder, not from here.
    /// </summary>
    public virtual IEnumerable<ConfigError> Validate() => [];
}

/// <summary>
/// Puts the keys of a nested config record at the level of the record that holds it, as otelcol's
/// <c>mapstructure:",squash"</c> does: shared blocks (client settings, timeout) compose into component configs
/// and the keys stay otelcol's (<c>endpoint</c>, not <c>client.endpoint</c>).
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ConfigSquashAttribute : Attribute;

/// <summary>A validation failure at a key path relative to the config being validated.</summary>
public sealed record ConfigError(string Path, string Message);

/// <summary>Overrides the YAML key of a config property or enum member (an enum member may have several: the first is canonical).</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field, AllowMultiple = true)]
public sealed class ConfigKeyAttribute(string key) : Attribute
{
    public string Key { get; } = key;
}

/// <summary>Documentation of a config property, used for the JSON schema and README tables.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Class)]
public sealed class ConfigDescriptionAttribute(string text) : Attribute
{
    public string Text { get; } = text;
}

/// <summary>Allowed numeric range of a config property, checked by the binder and put in the JSON schema.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ConfigRangeAttribute(double minimum, double maximum = double.MaxValue) : Attribute
{
    public double Minimum { get; } = minimum;
    public double Maximum { get; } = maximum;
}

/// <summary>An untyped config sub-tree (scalars as strings, maps, lists) for options whose shape varies.</summary>
public abstract record ConfigValue
{
    /// <summary>A scalar as written; <paramref name="Quoted"/> says YAML typed it as a string ("123", !!str), so consumers can type plain scalars themselves.</summary>
    public sealed record Scalar(string? Value, bool Quoted = false) : ConfigValue;
    public sealed record Map(IReadOnlyDictionary<string, ConfigValue> Entries) : ConfigValue;
    public sealed record Sequence(IReadOnlyList<ConfigValue> Items) : ConfigValue;
}

/// <summary>A config with no options (e.g. the forward connector).</summary>
public sealed record EmptyConfig : ComponentConfig;
