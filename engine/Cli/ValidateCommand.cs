using OtelAi.Engine.Config;
using OtelAi.Engine;

namespace OtelAi.Cli;

/// <summary><c>otelai validate --config ...</c>: exits 0 when the config can run (printing warnings), 1 listing every error.</summary>
internal sealed class ValidateCommand : ICliCommand
{
    public string Name => "validate";

    public string Summary => "check a config without running it; lists every error as file:line:col: key.path: message";

    public Task<int> RunAsync(IReadOnlyList<string> args, CliConsole console, CancellationToken cancellationToken)
    {
        var registry = BuiltinComponents.CreateRegistry();
        IReadOnlyList<ConfigIssue> issues;
        try
        {
            issues = Collector.Validate(ConfigArguments.Parse(args).Load(registry), registry);
        }
        catch (ArgumentException ex)
        {
            console.Error.WriteLine(ex.Message);
            return Task.FromResult(2);
        }
        catch (ConfigException ex)
        {
            issues = ex.Issues;
        }
        foreach (var issue in issues) console.Error.WriteLine(issue);
        var errors = issues.Count(i => i.Severity == ConfigIssueSeverity.Error);
        if (errors > 0)
        {
            console.Error.WriteLine($"invalid configuration: {errors} error(s)");
            return Task.FromResult(1);
        }
        console.Out.WriteLine("configuration is valid");
        return Task.FromResult(0);
    }
}
