using System.Diagnostics;
using System.Text.Json;

namespace OtelAi.TestSupport;

/// <summary>
/// A real Prometheus Alertmanager (Debian's prometheus-alertmanager 0.25, installed by the test command) started for
/// one test on a loopback port, clustering off, with its own config and storage; stopped by its PID.
/// </summary>
public sealed class AlertmanagerServer : IDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly string _directory = Directory.CreateTempSubdirectory("otelai-alertmanager-").FullName;
    private readonly Process _process;

    public AlertmanagerServer()
    {
        Port = TestPorts.GetFree();
        File.WriteAllText(Path.Combine(_directory, "alertmanager.yml"), """
            route:
              receiver: nowhere
              group_wait: 0s
            receivers:
              - name: nowhere
            """);
        _process = Process.Start(new ProcessStartInfo("prometheus-alertmanager",
            [$"--config.file={Path.Combine(_directory, "alertmanager.yml")}", $"--storage.path={Path.Combine(_directory, "data")}",
             $"--web.listen-address=127.0.0.1:{Port}", "--cluster.listen-address=", "--log.level=warn"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        }) ?? throw new InvalidOperationException("cannot start prometheus-alertmanager (the test command installs it)");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}";

    /// <summary>The active alerts (GET /api/v2/alerts), polled until <paramref name="done"/> holds (up to 60 s).</summary>
    public async Task<JsonElement[]> AlertsUntilAsync(Func<JsonElement[], bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        var last = "no answer";
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                last = await Http.GetStringAsync($"{Url}/api/v2/alerts?active=true&silenced=false&inhibited=false");
                var alerts = JsonDocument.Parse(last).RootElement.EnumerateArray().Select(a => a.Clone()).ToArray();
                if (done(alerts)) return alerts;
            }
            catch (HttpRequestException ex)
            {
                last = ex.Message;
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"Alertmanager never showed the expected alerts; last answer: {last}");
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        _process.Dispose();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
