using System.Text.Json;

namespace OtelAi.Cli;

/// <summary>
/// <c>otelai tap</c>: a live sample of what one component of a running collector outputs (an exporter: what it
/// receives), through its zpages extension, filtered by an OTTL condition: one JSON event per line (time, component,
/// pipeline, signal, and the item as an OTLP/JSON request holding only it). At most the extension's
/// <c>tap.max_items_per_second</c>, with credential attributes and configured patterns redacted by the collector.
/// </summary>
internal sealed class TapCommand : ICliCommand
{
    private static readonly HashSet<string> Valued = ["--endpoint", "--token", "--component", "--pipeline", "--where", "--count"];
    private static readonly HashSet<string> Switches = ["--insecure-skip-verify"];

    public string Name => "tap";

    public string Summary => "print a live sample of a component's output from a running collector: otelai tap --component processor/batch [--where OTTL] [--count N]";

    public bool TakesConfig => false;

    public async Task<int> RunAsync(IReadOnlyList<string> args, CliConsole console, CancellationToken cancellationToken)
    {
        if (LiveArguments.Parse(args, Valued, Switches, out var error) is not { } parsed)
        {
            console.Error.WriteLine(error);
            return 2;
        }
        if (parsed["--component"] is not { Length: > 0 } component)
        {
            console.Error.WriteLine("--component KIND/ID is required, e.g. --component processor/batch (otelai top lists them)");
            return 2;
        }
        var count = 0;
        if (parsed["--count"] is { } countText && (!int.TryParse(countText, out count) || count < 1))
        {
            console.Error.WriteLine($"--count: \"{countText}\" is not a positive number");
            return 2;
        }
        using var client = LiveClient.Create(parsed["--endpoint"], parsed["--token"], parsed.Has("--insecure-skip-verify"), out error);
        if (client is null)
        {
            console.Error.WriteLine(error);
            return 2;
        }
        var query = new List<string> { "component=" + Uri.EscapeDataString(component) };
        if (parsed["--pipeline"] is { } pipeline) query.Add("pipeline=" + Uri.EscapeDataString(pipeline));
        if (parsed["--where"] is { Length: > 0 } where) query.Add("where=" + Uri.EscapeDataString(where));
        if (count > 0) query.Add("count=" + count);
        try
        {
            await foreach (var (name, data) in client.EventsAsync("api/v1/tap?" + string.Join('&', query), cancellationToken))
            {
                if (name == "open")
                {
                    using var open = JsonDocument.Parse(data);
                    console.Error.WriteLine($"tapping {component} ({string.Join(", ", open.RootElement.GetProperty("points").EnumerateArray().Select(p => p.GetString()))}); Ctrl+C stops");
                    continue;
                }
                console.Out.WriteLine(data);
                await console.Out.FlushAsync(cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex) when (ex is LiveApiException or HttpRequestException or IOException)
        {
            console.Error.WriteLine($"otelai tap: {client.BaseAddress}: {ex.Message}");
            return 1;
        }
        return 0;
    }
}
