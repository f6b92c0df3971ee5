namespace OtelAi.Cli;

/// <summary>
/// <c>otelai health [--endpoint HOST:PORT] [--path /]</c>: asks a running collector's health_check extension and exits
/// 0 when it answers 2xx, 1 otherwise — a container HEALTHCHECK for images without a shell or curl (the chiseled
/// runtime images of config-samples/docker).
/// </summary>
internal sealed class HealthCommand : ICliCommand
{
    private static readonly HashSet<string> Valued = ["--endpoint", "--path", "--timeout"];
    private static readonly HashSet<string> Switches = [];

    public string Name => "health";

    public string Summary => "exit 0 when a running collector's health_check answers 2xx (for container HEALTHCHECK): otelai health [--endpoint localhost:13133] [--path /]";

    public bool TakesConfig => false;

    public async Task<int> RunAsync(IReadOnlyList<string> args, CliConsole console, CancellationToken cancellationToken)
    {
        if (LiveArguments.Parse(args, Valued, Switches, out var error) is not { } parsed)
        {
            console.Error.WriteLine(error);
            return 2;
        }
        var timeout = TimeSpan.FromSeconds(3);
        if (parsed["--timeout"] is { } text && !Engine.Config.Durations.TryParse(text, out timeout))
        {
            console.Error.WriteLine($"--timeout: \"{text}\" is not a duration such as 3s");
            return 2;
        }
        // No token: health_check answers without one (an empty token also keeps $OTELAI_ZPAGES_TOKEN out).
        using var client = LiveClient.Create(parsed["--endpoint"] ?? "localhost:13133", token: "", insecure: false, out error);
        if (client is null)
        {
            console.Error.WriteLine(error);
            return 2;
        }
        var path = (parsed["--path"] ?? "/").TrimStart('/');
        var url = new Uri(client.BaseAddress, path);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            var (status, body) = await client.GetStatusAsync(path, deadline.Token);
            var healthy = status is >= 200 and < 300;
            (healthy ? console.Out : console.Error).WriteLine($"{url}: {status} {(healthy ? "healthy" : body)}");
            return healthy ? 0 : 1;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            console.Error.WriteLine($"{url}: {(ex is OperationCanceledException ? $"no answer within {Engine.Config.Durations.Format(timeout)}" : ex.Message)}");
            return 1;
        }
    }
}
