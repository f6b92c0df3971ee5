namespace OtelAi.Cli;

/// <summary>A subcommand of <c>otelai</c> (<c>otelai NAME args...</c>), listed in <see cref="CliCommands.All"/>.</summary>
public interface ICliCommand
{
    string Name { get; }

    /// <summary>One line for <c>otelai --help</c>.</summary>
    string Summary { get; }

    /// <summary>Whether it reads a collector config (its help then lists the config sources and flags).</summary>
    bool TakesConfig => true;

    /// <summary>Runs with the arguments after the command name; returns the process exit code.</summary>
    Task<int> RunAsync(IReadOnlyList<string> args, CliConsole console, CancellationToken cancellationToken);
}

/// <summary>Where commands write: stdout for results, stderr for logs and errors (tests swap them).</summary>
public sealed record CliConsole(TextWriter Out, TextWriter Error)
{
    public static CliConsole Standard => new(Console.Out, Console.Error);
}
