using OtelAi.Engine.Components;
using OtelAi.Engine.Config;

namespace OtelAi.Engine;

public sealed partial class Collector
{
    /// <summary>
    /// A collector for YAML text in otelcol's config shape (env references expanded through <paramref name="environment"/>,
    /// default the process environment); throws <see cref="ConfigException"/> listing every error when invalid.
    /// </summary>
    public static Collector FromYaml(string yaml, ComponentRegistry registry, CollectorOptions? options = null,
        IReadOnlyList<string>? setOverrides = null, Func<string, string?>? environment = null) =>
        FromLoaded(Load([new ConfigSource(ConfigLoader.InlineSourceName, yaml)], registry, setOverrides, environment), registry, options);

    /// <summary>A collector for config files merged in order (as several <c>--config</c>), then <c>--set</c> overrides.</summary>
    public static Collector FromFiles(IReadOnlyList<string> paths, ComponentRegistry registry, CollectorOptions? options = null,
        IReadOnlyList<string>? setOverrides = null) =>
        FromLoaded(ConfigLoader.LoadFiles(paths, registry, setOverrides, config => Service.GraphPlan.Validate(config, registry)), registry, options);

    /// <summary>
    /// Loads and binds config sources (merged in order, then <c>--set</c> overrides); throws <see cref="ConfigException"/>
    /// listing every error, the pipeline graph's included when component configs have errors too.
    /// </summary>
    public static LoadedConfig Load(IReadOnlyList<ConfigSource> sources, ComponentRegistry registry,
        IReadOnlyList<string>? setOverrides = null, Func<string, string?>? environment = null) =>
        ConfigLoader.Load(sources, registry, setOverrides, environment, config => Service.GraphPlan.Validate(config, registry));

    /// <summary>
    /// Checks the graph of a loaded config without building anything (what <c>otelai validate</c> runs after loading):
    /// the loader's warnings plus every graph error and warning. The config can run when none is an error.
    /// </summary>
    public static IReadOnlyList<ConfigIssue> Validate(LoadedConfig loaded, ComponentRegistry registry) =>
        [.. loaded.Warnings, .. Service.GraphPlan.Validate(loaded.Config, registry)];

    /// <summary>A collector for a loaded config; the loader's warnings join the graph's in <see cref="Warnings"/>.</summary>
    public static Collector FromLoaded(LoadedConfig loaded, ComponentRegistry registry, CollectorOptions? options = null) =>
        new(loaded.Config, registry, options, loaded.Warnings);
}
