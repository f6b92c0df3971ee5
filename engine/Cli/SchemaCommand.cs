using OtelAi.Engine.Config;

namespace OtelAi.Cli;

/// <summary><c>otelai schema</c>: the JSON Schema of the whole config, every shipped component's options included.</summary>
internal sealed class SchemaCommand : ICliCommand
{
    public string Name => "schema";

    public string Summary => "print the JSON Schema of the config (for YAML editors)";

    public Task<int> RunAsync(IReadOnlyList<string> args, CliConsole console, CancellationToken cancellationToken)
    {
        console.Out.WriteLine(ConfigSchema.GenerateJson(BuiltinComponents.CreateRegistry()));
        return Task.FromResult(0);
    }
}
