using OtelAi.Engine.Components;

namespace OtelAi.Cli;

/// <summary><c>otelai featuregate [ID]</c>: the feature gates this build knows, as otelcol's <c>featuregate</c> command lists them.</summary>
internal sealed class FeatureGateCommand : ICliCommand
{
    public string Name => "featuregate";

    public string Summary => "list the feature gates (--feature-gates values), or one gate's details: otelai featuregate [ID]";

    public Task<int> RunAsync(IReadOnlyList<string> args, CliConsole console, CancellationToken cancellationToken)
    {
        var gates = BuiltinComponents.CreateRegistry().FeatureGates.All.ToList();
        if (args.Count > 1 || args.Count == 1 && args[0].StartsWith('-'))
        {
            console.Error.WriteLine("usage: otelai featuregate [ID]");
            return Task.FromResult(2);
        }
        if (args.Count == 1)
        {
            if (gates.FirstOrDefault(g => g.Gate.Id == args[0]) is not { Gate: not null } found)
            {
                console.Error.WriteLine($"no such feature gate \"{args[0]}\"; known gates: {string.Join(", ", gates.Select(g => g.Gate.Id))}");
                return Task.FromResult(1);
            }
            var (gate, enabled) = found;
            console.Out.WriteLine($"Feature: {gate.Id}\nEnabled: {enabled.ToString().ToLowerInvariant()}\nStage: {gate.Stage}\nDescription: {gate.Description}");
            if (gate.FromVersion is { } from) console.Out.WriteLine($"From Version: {from}");
            if (gate.ReferenceUrl is { } url) console.Out.WriteLine($"Reference URL: {url}");
            return Task.FromResult(0);
        }
        var idWidth = Math.Max("ID".Length, gates.Max(g => g.Gate.Id.Length));
        console.Out.WriteLine($"{"ID".PadRight(idWidth)}  Enabled  Stage       Description");
        foreach (var (gate, enabled) in gates)
            console.Out.WriteLine($"{gate.Id.PadRight(idWidth)}  {(enabled ? "true" : "false"),-7}  {gate.Stage,-10}  {gate.Description}");
        return Task.FromResult(0);
    }
}
