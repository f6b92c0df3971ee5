using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace OtelAi.TestSupport;

/// <summary>
/// A real Prometheus server (Debian's prometheus 2.42, which the test command installs) started for one test on a
/// loopback port it picked, with its own config and data directory; it is stopped by its PID, never by name, so a
/// Prometheus of the machine's own is left alone. Queries go through its HTTP API.
/// </summary>
public sealed class PrometheusServer : IDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly string _directory;
    private Process? _process;

    private PrometheusServer(string directory, int port)
    {
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    /// <summary>Where Prometheus receives remote write (started with the receiver enabled).</summary>
    public string RemoteWriteUrl => $"http://127.0.0.1:{Port}/api/v1/write";

    /// <summary>
    /// Starts Prometheus with <paramref name="scrapeConfigs"/> (YAML list items under scrape_configs, may be empty)
    /// and the remote write receiver enabled; <paramref name="port"/> 0 picks a free one.
    /// </summary>
    public static PrometheusServer Start(string scrapeConfigs = "", int port = 0)
    {
        var directory = Directory.CreateTempSubdirectory("otelai-prometheus-").FullName;
        var server = new PrometheusServer(directory, port == 0 ? TestPorts.GetFree() : port);
        File.WriteAllText(Path.Combine(directory, "prometheus.yml"), $"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
            {(scrapeConfigs.Length == 0 ? "  []" : scrapeConfigs)}
            """);
        server.Launch();
        return server;
    }

    private void Launch()
    {
        var process = Process.Start(new ProcessStartInfo("prometheus",
            [$"--config.file={Path.Combine(_directory, "prometheus.yml")}", $"--storage.tsdb.path={Path.Combine(_directory, "data")}",
             $"--web.listen-address=127.0.0.1:{Port}", "--web.enable-remote-write-receiver", "--log.level=warn"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        }) ?? throw new InvalidOperationException("cannot start prometheus (the test command installs it)");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
    }

    /// <summary>Polls an instant query until it returns at least one series (up to 60 s on a loaded machine); returns them all.</summary>
    public Task<JsonElement[]> QueryUntilPresentAsync(string query) => QueryUntilAsync(query, series => series.Length > 0);

    /// <summary>Polls an instant query until <paramref name="done"/> holds for its series.</summary>
    public async Task<JsonElement[]> QueryUntilAsync(string query, Func<JsonElement[], bool> done, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        var last = "no answer";
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                var json = await Http.GetStringAsync($"http://127.0.0.1:{Port}/api/v1/query?query={Uri.EscapeDataString(query)}");
                last = json;
                var series = JsonDocument.Parse(json).RootElement.GetProperty("data").GetProperty("result").EnumerateArray().Select(e => e.Clone()).ToArray();
                if (done(series)) return series;
            }
            catch (HttpRequestException ex)
            {
                last = ex.Message; // still starting
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"Prometheus never answered {query} as expected; last answer: {last}");
    }

    /// <summary>The value of an instant-query series as a number.</summary>
    public static double Value(JsonElement series) =>
        double.Parse(series.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);

    /// <summary>A label of an instant-query series, or null.</summary>
    public static string? Label(JsonElement series, string name) =>
        series.GetProperty("metric").TryGetProperty(name, out var value) ? value.GetString() : null;

    public void Dispose()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        _process?.Dispose();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
