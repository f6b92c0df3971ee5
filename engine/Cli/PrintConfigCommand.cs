using OtelAi.Engine.Config;

namespace OtelAi.Cli;

/// <summary>
/// <c>otelai print-config --config ... [--mode redacted|unredacted]</c>: the effective config (sources merged,
/// <c>--set</c> applied, <c>${env:...}</c> expanded) as YAML, secrets redacted unless asked otherwise.
/// </summary>
internal sealed class PrintConfigCommand : ICliCommand
{
    public string Name => "print-config";

    public string Summary => "print the effective config (merged, overridden, ${env:...} expanded); --mode unredacted shows secrets";

    public Task<int> RunAsync(IReadOnlyList<string> args, CliConsole console, CancellationToken cancellationToken)
    {
        var rest = new List<string>();
        var redacted = true;
        try
        {
            for (var i = 0; i < args.Count; i++)
            {
                var (flag, value) = args[i].StartsWith("--mode=", StringComparison.Ordinal) ? ("--mode", args[i]["--mode=".Length..])
                    : args[i] == "--mode" ? ("--mode", i + 1 < args.Count ? args[++i] : throw new ArgumentException("--mode needs a value"))
                    : (null, null);
                if (flag is null)
                {
                    rest.Add(args[i]);
                    continue;
                }
                redacted = value switch
                {
                    "redacted" => true,
                    "unredacted" => false,
                    _ => throw new ArgumentException($"--mode \"{value}\": expected redacted or unredacted"),
                };
            }
            var registry = BuiltinComponents.CreateRegistry();
            console.Out.Write(ConfigArguments.Parse(rest).Load(registry).ToYaml(redacted));
            return Task.FromResult(0);
        }
        catch (ArgumentException ex)
        {
            console.Error.WriteLine(ex.Message);
            return Task.FromResult(2);
        }
        catch (ConfigException ex)
        {
            foreach (var issue in ex.Issues) console.Error.WriteLine(issue);
            return Task.FromResult(1);
        }
    }
}
