using OtelAi.Engine.Docs;

namespace OtelAi.Cli;

/// <summary><c>otelai docs</c>: the component config reference (markdown) that README.md embeds.</summary>
internal sealed class DocsCommand : ICliCommand
{
    public string Name => "docs";

    public string Summary => "print the config reference of every component (markdown, as in README.md)";

    public Task<int> RunAsync(IReadOnlyList<string> args, CliConsole console, CancellationToken cancellationToken)
    {
        console.Out.Write(ConfigReference.GenerateMarkdown(BuiltinComponents.CreateRegistry()));
        return Task.FromResult(0);
    }
}
