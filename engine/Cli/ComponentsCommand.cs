using OtelAi.Engine.Components;
using OtelAi.Otlp;

namespace OtelAi.Cli;

/// <summary><c>otelai components</c>: every component type per kind with its stability per signal, as YAML (like otelcol's).</summary>
internal sealed class ComponentsCommand : ICliCommand
{
    public string Name => "components";

    public string Summary => "list every component type per kind with its stability per signal and its aliases";

    public Task<int> RunAsync(IReadOnlyList<string> args, CliConsole console, CancellationToken cancellationToken)
    {
        console.Out.Write(Render(BuiltinComponents.CreateRegistry()));
        return Task.FromResult(0);
    }

    internal static string Render(ComponentRegistry registry)
    {
        var build = BuildInfo.Current;
        var text = new System.Text.StringBuilder();
        text.Append($"buildinfo:\n  command: {build.Command}\n  description: {build.Description}\n  version: {build.Version}\n");
        foreach (var kind in Enum.GetValues<ComponentKind>())
        {
            var factories = registry.Factories(kind).ToList();
            text.Append($"{kind.ToString().ToLowerInvariant()}s:");
            if (factories.Count == 0)
            {
                text.Append(" []\n");
                continue;
            }
            text.Append('\n');
            foreach (var factory in factories)
            {
                text.Append($"  - name: {factory.Type}\n");
                var aliases = registry.AliasesOf(factory).Order(StringComparer.Ordinal).ToList();
                if (aliases.Count > 0) text.Append($"    aliases: [{string.Join(", ", aliases)}]\n");
                text.Append("    stability:\n");
                foreach (var (key, level) in Stabilities(factory))
                    text.Append($"      {key}: {level}\n");
            }
        }
        return text.ToString();
    }

    private static IEnumerable<(string Key, StabilityLevel Level)> Stabilities(IComponentFactory factory) => factory switch
    {
        IExtensionFactory extension => [("extension", extension.ExtensionStability)],
        IConnectorFactory connector => connector.SupportedRoutes
            .OrderBy(r => r.Key.From).ThenBy(r => r.Key.To)
            .Select(r => ($"{r.Key.From.ToConfigName()}-to-{r.Key.To.ToConfigName()}", r.Value)),
        _ => factory.Stability.OrderBy(s => s.Key).Select(s => (s.Key.ToConfigName(), s.Value)),
    };
}
