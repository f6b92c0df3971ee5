namespace OtelAi.Engine.Config;

/// <summary>
/// A config record with rules of its own, at any depth of a component's config. The binder's validation walks the
/// whole bound tree and runs every section's rules, with error paths relative to the section: a record never calls
/// the validation of the records it holds (as otelcol's confmap validation walks nested structs).
/// </summary>
public interface IConfigSection
{
    /// <summary>Checks rules across this record's fields. Paths are relative to the record (e.g. "min_version").</summary>
    IEnumerable<ConfigError> Validate();
}
