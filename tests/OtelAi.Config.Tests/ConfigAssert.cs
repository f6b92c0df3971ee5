using OtelAi.Engine.Config;

namespace OtelAi.Config.Tests;

/// <summary>Loads YAML through the public loader with the test registry and a fixed environment.</summary>
internal static class TestLoad
{
    public const string File = "config.yaml";

    public static LoadedConfig Yaml(string yaml, IReadOnlyDictionary<string, string>? env = null, IReadOnlyList<string>? sets = null) =>
        ConfigLoader.Load([new ConfigSource(File, yaml)], TestRegistry.Create(), sets, Environment(env));

    public static Func<string, string?> Environment(IReadOnlyDictionary<string, string>? env) =>
        name => env is not null && env.TryGetValue(name, out var value) ? value : null;

    /// <summary>The issues of a config that must fail to load.</summary>
    public static IReadOnlyList<ConfigIssue> Errors(string yaml, IReadOnlyDictionary<string, string>? env = null, IReadOnlyList<string>? sets = null)
    {
        var exception = Assert.Throws<ConfigException>(() => Yaml(yaml, env, sets));
        return exception.Issues.Where(i => i.Severity == ConfigIssueSeverity.Error).ToList();
    }

    /// <summary>The single error of a config with exactly one problem.</summary>
    public static ConfigIssue SingleError(string yaml, IReadOnlyDictionary<string, string>? env = null, IReadOnlyList<string>? sets = null) =>
        Assert.Single(Errors(yaml, env, sets));

    public static SourceLocation At(int line, int column, string file = File) => new(file, line, column);
}
