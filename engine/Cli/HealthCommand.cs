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
        var endpoint = parsed["--endpoint"] ?? "localhost:13133";
        var url = (endpoint.Contains("://", StringComparison.Ordinal) ? endpoint : "http://" + endpoint).TrimEnd('/') + "/" + (parsed["--path"] ?? "/").TrimStart('/');
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            console.Error.WriteLine($"--endpoint: \"{endpoint}\" is not host:port or a URL");
            return 2;
        }
        using var http = new HttpClient { Timeout = timeout };
        try
        {
            using var response = await http.GetAsync(uri, cancellationToken);
            var healthy = response.IsSuccessStatusCode;
            (healthy ? console.Out : console.Error).WriteLine($"{uri}: {(int)response.StatusCode} {(healthy ? "healthy" : await response.Content.ReadAsStringAsync(cancellationToken))}");
            return healthy ? 0 : 1;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            console.Error.WriteLine($"{uri}: {ex.Message}");
            return 1;
        }
    }
}
