using System.Collections.Concurrent;
using System.Diagnostics;

namespace OtelAi.TestSupport;

/// <summary>
/// The built <c>otelai</c> CLI running as a separate process, the way a user runs it: <c>dotnet exec otelai.dll</c>
/// from the test's output folder (the test project references engine/Cli so that the CLI is copied there), or the
/// executable named by <c>OTELAI_EXECUTABLE</c> (the test command sets it to the Native AOT build and runs the tests
/// marked <see cref="Trait"/> again). Output is collected line by line as it arrives, so a hung or failing engine
/// can be diagnosed from what it printed so far.
/// </summary>
public sealed class OtelaiProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly ConcurrentQueue<string> _output = new();

    private OtelaiProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Collect(_stdout, e.Data);
        _process.ErrorDataReceived += (_, e) => Collect(_stderr, e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The xunit trait (name and value) of tests that run the otelai executable, so they can run against each build.</summary>
    public const string Trait = "Runs", Executable = "otelai";

    /// <summary>Starts <c>otelai</c> with <paramref name="arguments"/> (e.g. <c>--config</c>, a path).</summary>
    public static OtelaiProcess Start(params string[] arguments) => Start(new Dictionary<string, string>(), arguments);

    /// <summary>Starts <c>otelai</c> with <paramref name="arguments"/> and these environment variables set (what ${env:...} in a config reads).</summary>
    public static OtelaiProcess Start(IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var executable = Environment.GetEnvironmentVariable("OTELAI_EXECUTABLE");
        var start = new ProcessStartInfo(string.IsNullOrEmpty(executable) ? "dotnet" : executable)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        if (string.IsNullOrEmpty(executable))
        {
            start.ArgumentList.Add("exec");
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "otelai.dll"));
        }
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        foreach (var (name, value) in environment) start.Environment[name] = value;
        return new OtelaiProcess(Process.Start(start)!);
    }

    public int Id => _process.Id;

    /// <summary>Waits (up to 30 s) until each of <paramref name="ports"/> on loopback answers HTTP; throws with the output if the engine exits.</summary>
    public void WaitUntilListening(params int[] ports)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddSeconds(30);
        foreach (var port in ports)
            while (true)
            {
                if (HasExited) throw new InvalidOperationException($"otelai exited: {Output}");
                try
                {
                    using var response = http.GetAsync($"http://127.0.0.1:{port}/").GetAwaiter().GetResult();
                    break; // any HTTP answer: it listens
                }
                catch (HttpRequestException) when (DateTime.UtcNow < deadline)
                {
                    Thread.Sleep(100);
                }
            }
    }

    public bool HasExited => _process.HasExited;

    /// <summary>Standard output so far (complete once <see cref="WaitForExitAsync"/> returned).</summary>
    public string Stdout => string.Join('\n', _stdout);

    /// <summary>Standard error so far (complete once <see cref="WaitForExitAsync"/> returned).</summary>
    public string Stderr => string.Join('\n', _stderr);

    /// <summary>Both streams interleaved in arrival order, for failure messages.</summary>
    public string Output => string.Join('\n', _output);

    /// <summary>Sends a signal by name (TERM, INT, HUP) with kill(1), as an operator or a service manager would.</summary>
    public void Signal(string name)
    {
        using var kill = Process.Start("kill", ["-" + name, _process.Id.ToString()]);
        kill.WaitForExit();
        if (kill.ExitCode != 0) throw new InvalidOperationException($"kill -{name} {_process.Id} exited {kill.ExitCode}");
    }

    /// <summary>Waits (default 60 s) for the process to exit and its output to be read to the end.</summary>
    public async Task<(int ExitCode, string Stderr)> WaitForExitAsync(TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"otelai (pid {_process.Id}) did not exit within {timeout ?? TimeSpan.FromSeconds(60)}; output:\n{Output}");
        }
        return (_process.ExitCode, Stderr);
    }

    /// <summary>SIGKILL: no shutdown code runs.</summary>
    public void Kill9()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public void Dispose()
    {
        Kill9();
        _process.Dispose();
    }

    private void Collect(ConcurrentQueue<string> stream, string? line)
    {
        if (line is null) return; // end of stream
        stream.Enqueue(line);
        _output.Enqueue(line);
    }
}
