namespace OtelAi.Cli;

/// <summary>
/// The subcommand table. <c>otelai --config ...</c> with no command name runs the collector (<see cref="RunCommand"/>).
/// A new subcommand is one class implementing <see cref="ICliCommand"/> plus one line here.
/// </summary>
public static class CliCommands
{
    public static IReadOnlyList<ICliCommand> All { get; } =
    [
        new RunCommand(),
        new ValidateCommand(),
        new PrintConfigCommand(),
        new ComponentsCommand(),
        new FeatureGateCommand(),
        new SchemaCommand(),
        new DocsCommand(),
        new EbpfCommand(),
        new TopCommand(),
        new TapCommand(),
        new HealthCommand(),
        new CompletionCommand(),
    ];

    public static async Task<int> RunAsync(IReadOnlyList<string> args, CliConsole console, CancellationToken cancellationToken)
    {
        if (args.Count == 0 || args[0] is "--help" or "-h" or "help")
        {
            console.Out.Write(Usage());
            return args.Count == 0 ? 2 : 0;
        }
        if (args[0] is "--version" or "-v" or "version")
        {
            var build = Engine.Components.BuildInfo.Current;
            console.Out.WriteLine($"{build.Command} version {build.Version}{(build.Commit.Length > 0 ? $" (commit {build.Commit})" : "")}");
            return 0;
        }
        var command = All.FirstOrDefault(c => c.Name == args[0]);
        if (command is not null && args.Skip(1).Any(a => a is "--help" or "-h"))
        {
            console.Out.Write(CommandUsage(command));
            return 0;
        }
        if (command is not null) return await command.RunAsync(args.Skip(1).ToList(), console, cancellationToken);
        if (args[0].StartsWith('-')) return await All[0].RunAsync(args, console, cancellationToken);
        console.Error.WriteLine($"unknown command \"{args[0]}\"; run otelai --help");
        return 2;
    }

    /// <summary>One command's help: what it does, then the config sources and flags every command that reads a config takes.</summary>
    public static string CommandUsage(ICliCommand command) =>
        string.Join('\n', [$"otelai {command.Name}: {command.Summary}", "", .. command.TakesConfig ? ConfigUsage : []]);

    private static readonly string[] ConfigUsage =
    [
        "Config sources (--config, repeatable, merged in order; maps deep-merge, lists are replaced):",
        "  FILE or file:FILE                  a YAML file",
        "  env:VARIABLE                       YAML held by an environment variable (as the OpenTelemetry Operator passes it)",
        "  http://URL, https://URL            YAML fetched at start (10 s deadline)",
        "  yaml:INLINE                        inline YAML, e.g. 'yaml:processors::batch::timeout: 2s'",
        "Flags:",
        "  --set key.path=value               override one value after merging",
        "  --shutdown-timeout DURATION        drain budget on SIGTERM/SIGINT (default: service.shutdown_timeout, else 30s)",
        "  --version, --help",
        "",
    ];

    public static string Usage()
    {
        var lines = new List<string>
        {
            $"{Engine.Components.BuildInfo.Current.Description}",
            "",
            "Usage:",
            "  otelai --config FILE [--config FILE...] [--set key.path=value...]   run until SIGINT/SIGTERM",
            "  otelai COMMAND [args]",
            "",
            "Commands:",
        };
        lines.AddRange(All.Select(c => $"  {c.Name,-12} {c.Summary}"));
        lines.Add("");
        lines.AddRange(ConfigUsage);
        return string.Join('\n', lines);
    }
}
