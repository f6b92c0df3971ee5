using OtelAi.Engine.Config;

namespace OtelAi.Cli;

/// <summary><c>otelai schema</c>: the JSON Schema of the whole config, every shipped component's options included.</summary>
internal sealed class SchemaCommand : ICliCommand
{
    public string Name => "schema";

    public string Summary => "print the JSON Schema of the config (for YAML editors)";

    public Task<int> RunAsync(IReadOnlyList<string> args, CliConsole console, CancellationToken cancellationToken)
    {
        // NJsonSchema (through Newtonsoft.Json) builds its serializers by reflection that Native AOT does not keep.
        if (!System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported)
        {
            console.Error.WriteLine("otelai schema is not part of the Native AOT build: run it with the framework-dependent build (dotnet otelai.dll schema)");
            return Task.FromResult(1);
        }
        console.Out.WriteLine(ConfigSchema.GenerateJson(BuiltinComponents.CreateRegistry()));
        return Task.FromResult(0);
    }
}
