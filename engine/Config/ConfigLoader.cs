using OtelAi.Engine.Components;

namespace OtelAi.Engine.Config;

/// <summary>One YAML config text and where it came from (a file path, <c>&lt;inline&gt;</c> or <c>--set</c>).</summary>
public sealed record ConfigSource(string Name, string Yaml);

/// <summary>A config that loaded without errors, with the warnings found on the way (e.g. an unset env var).</summary>
public sealed record LoadedConfig(ServiceConfig Config, IReadOnlyList<ConfigIssue> Warnings)
{
    internal MappingNode? Effective { get; init; }

    /// <summary>The merged config after ${env:...} expansion, as YAML; <paramref name="redacted"/> hides secrets (see print-config).</summary>
    public string ToYaml(bool redacted = true) => Effective is null ? "" : EffectiveConfig.ToYaml(Effective, redacted);
}

/// <summary>
/// Turns otelcol-style YAML into a <see cref="ServiceConfig"/>: parse every source, merge them in order (then the
/// <c>--set</c> overrides), expand <c>${env:...}</c>, bind each component's config through the registry and run
/// its <see cref="ComponentConfig.Validate"/>. All errors are collected and thrown together as a <see cref="ConfigException"/>.
/// </summary>
public static class ConfigLoader
{
    public const string InlineSourceName = "<inline>";

    /// <param name="checkGraph">
    /// When component configs have errors, the pipeline graph is still checked with this (the service passes its
    /// graph planner), so a pipeline naming a missing component is reported in the same run, not after the rest is fixed.
    /// </param>
    public static LoadedConfig Load(IReadOnlyList<ConfigSource> sources, ComponentRegistry registry,
        IReadOnlyList<string>? setOverrides = null, Func<string, string?>? environment = null,
        Func<ServiceConfig, IReadOnlyList<ConfigIssue>>? checkGraph = null)
    {
        var issues = new ConfigIssues();
        var documents = new List<ConfigNode>();
        foreach (var source in sources)
            if (YamlReader.Read(source.Yaml, source.Name, issues) is { } document) documents.Add(document);
        foreach (var set in setOverrides ?? [])
            if (SetOverride.Parse(set, issues) is { } document) documents.Add(document);
        // Unreadable YAML leaves nothing trustworthy to check further (a duplicate key does not make it unreadable).
        if (documents.Count < sources.Count + (setOverrides?.Count ?? 0)) issues.ThrowIfErrors();

        var merged = documents.Aggregate((ConfigNode)new MappingNode([], new SourceLocation(InlineSourceName, 1, 1)), Merger.Merge);
        var expanded = (MappingNode)new Expander(environment ?? Environment.GetEnvironmentVariable, issues).Expand(merged, "");
        var config = new ServiceConfigReader(registry, issues).Read(expanded, SourceMapBuilder.Build(expanded));
        if (issues.HasErrors && checkGraph is not null) issues.AddGraphErrors(checkGraph(config));
        issues.ThrowIfErrors();
        return new LoadedConfig(config with { Effective = expanded }, issues.Warnings) { Effective = expanded };
    }

    public static LoadedConfig LoadFiles(IReadOnlyList<string> paths, ComponentRegistry registry, IReadOnlyList<string>? setOverrides = null,
        Func<ServiceConfig, IReadOnlyList<ConfigIssue>>? checkGraph = null)
    {
        var issues = new ConfigIssues();
        var sources = new List<ConfigSource>();
        foreach (var path in paths)
        {
            try
            {
                sources.Add(new ConfigSource(path, File.ReadAllText(path)));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                issues.Error("", $"cannot read config file \"{path}\": {e.Message}", null);
            }
        }
        if (paths.Count == 0) issues.Error("", "no config given: pass at least one --config FILE", null);
        issues.ThrowIfErrors();
        return Load(sources, registry, setOverrides, checkGraph: checkGraph);
    }

    /// <summary>
    /// Binds one YAML mapping (or empty text, for all defaults) onto <typeparamref name="T"/>, expanding env
    /// references and running <see cref="ComponentConfig.Validate"/>; throws a <see cref="ConfigException"/> on errors.
    /// </summary>
    public static T Bind<T>(string yaml) where T : ComponentConfig
    {
        var issues = new ConfigIssues();
        var node = YamlReader.Read(yaml, InlineSourceName, issues);
        issues.ThrowIfErrors();
        var expanded = new Expander(Environment.GetEnvironmentVariable, issues).Expand(node!, "");
        var config = (T)new Binder(issues).Bind(expanded, typeof(T), Activator.CreateInstance<T>(), "")!;
        if (!issues.HasErrors) ServiceConfigReader.ReportValidation(config, "", SourceMapBuilder.Build(expanded), issues);
        issues.ThrowIfErrors();
        return config;
    }
}
