using System.Diagnostics;
using OtelAi.Receivers.Ebpf;

namespace OtelAi.TestSupport;

/// <summary>
/// An external eBPF event source for the pinned-map tests and the load generator (Native/pin_events.c with
/// Native/test_events.bpf.c, compiled here with clang and libbpf): it pins a perf event array and a ring buffer and
/// emits one 32-byte event per getppid().
/// </summary>
public sealed class EbpfEventProducer : IDisposable
{
    private static readonly Lazy<(string Object, string Loader)> Built = new(Build);
    private readonly Process _process;

    /// <param name="pinPrefix">Where to pin the maps (suffixes _perf and _ring); default: a fresh name under /sys/fs/bpf.</param>
    public EbpfEventProducer(string? pinPrefix = null)
    {
        var (obj, loader) = Built.Value;
        // A fresh machine may have neither filesystem mounted: pinning needs bpffs, attaching needs tracefs.
        if (!File.ReadAllText("/proc/mounts").Contains(" /sys/fs/bpf bpf ")) Run("mount", "-t", "bpf", "bpf", "/sys/fs/bpf");
        OtelAi.Receivers.Ebpf.Native.Tracefs.EnsureMounted();
        PinPrefix = pinPrefix ?? $"/sys/fs/bpf/otelai_test_{Guid.NewGuid():N}";
        var start = new ProcessStartInfo(loader) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(obj);
        start.ArgumentList.Add(PinPrefix);
        _process = Process.Start(start)!;
        var ready = ReadLine();
        if (ready?.StartsWith("ready ") != true)
            throw new InvalidOperationException($"pin_events did not start: {ready} {_process.StandardError.ReadToEnd()}");
        Pid = int.Parse(ready["ready ".Length..]);
    }

    public string PinPrefix { get; }

    public string PerfMap => PinPrefix + "_perf";

    public string RingMap => PinPrefix + "_ring";

    public int Pid { get; }

    /// <summary>
    /// Emits <paramref name="count"/> events into the perf array or the ring buffer, at <paramref name="perSecond"/>
    /// events per second (0: as fast as one thread can); returns how long the producer took.
    /// </summary>
    public TimeSpan Generate(long count, bool ring = false, long perSecond = 0)
    {
        _process.StandardInput.WriteLine($"gen {count} {(ring ? "ring" : "perf")} {perSecond}");
        _process.StandardInput.Flush();
        var done = ReadLine() ?? throw new InvalidOperationException("pin_events exited");
        return TimeSpan.FromTicks(long.Parse(done["done ".Length..]) / 100);
    }

    /// <summary>Calls write(2) <paramref name="count"/> times on /dev/null; returns how long that took.</summary>
    public TimeSpan WriteLoop(long count)
    {
        _process.StandardInput.WriteLine($"write {count}");
        _process.StandardInput.Flush();
        var done = ReadLine() ?? throw new InvalidOperationException("pin_events exited");
        return TimeSpan.FromTicks(long.Parse(done["done ".Length..]) / 100);
    }

    private string? ReadLine() => _process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60)).GetAwaiter().GetResult();

    /// <summary>The layout of struct test_event.</summary>
    public static EventLayoutConfig Layout(EventSignal signal) => new()
    {
        Size = 32,
        Signal = signal,
        Name = "getppid",
        Fields =
        [
            new() { Name = "ts", Type = "u64", MapTo = signal == EventSignal.Traces ? "start_time" : "time" },
            new() { Name = "pid", Type = "u32", MapTo = "pid" },
            new() { Name = "seq", Type = "u32", MapTo = "attributes.seq" },
            new() { Name = "nr", Type = "u64", MapTo = signal == EventSignal.Metrics ? "value" : "attributes.syscall.nr" },
            new() { Name = "tag", Type = "char[8]", MapTo = signal == EventSignal.Logs ? "body" : "attributes.tag" },
        ],
    };

    private static (string, string) Build()
    {
        var source = Path.Combine(AppContext.BaseDirectory, "Native");
        var output = Path.Combine(Path.GetTempPath(), $"otelai-ebpf-producer-{Environment.ProcessId}");
        Directory.CreateDirectory(output);
        var obj = Path.Combine(output, "test_events.bpf.o");
        var loader = Path.Combine(output, "pin_events");
        Run("clang", "-O2", "-g", "-target", "bpf", "-I/usr/include/x86_64-linux-gnu", "-c", Path.Combine(source, "test_events.bpf.c"), "-o", obj);
        Run("clang", "-O2", "-o", loader, Path.Combine(source, "pin_events.c"), "-lbpf");
        return (obj, loader);
    }

    private static void Run(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        var errors = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed: {errors}");
    }

    public void Dispose()
    {
        _process.StandardInput.Close(); // the producer unpins its maps and exits
        if (!_process.WaitForExit(10_000)) _process.Kill();
        _process.Dispose();
    }
}
