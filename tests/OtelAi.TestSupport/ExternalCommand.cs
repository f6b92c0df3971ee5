using System.Diagnostics;

namespace OtelAi.TestSupport;

/// <summary>Runs a program the tests do not own (kubectl, node, tmux, dotnet) to its end, with its output.</summary>
public static class ExternalCommand
{
    /// <summary>
    /// Runs <paramref name="file"/> with <paramref name="args"/>; <paramref name="stdin"/>, when given, is written and
    /// closed. Past <paramref name="timeout"/> (default 5 minutes) the process tree is killed and a TimeoutException says what it printed.
    /// </summary>
    public static async Task<(int Code, string Stdout, string Stderr)> RunAsync(string file, IEnumerable<string> args,
        string? workingDirectory = null, string? stdin = null, TimeSpan? timeout = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin is not null,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }
        var limit = timeout ?? TimeSpan.FromMinutes(5);
        using var cancel = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in {limit}: {await stdout}{await stderr}");
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}
