using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using OtelAi.Receivers.Ebpf.Native;

namespace OtelAi.Receivers.Ebpf;

/// <summary>
/// The bundled http_requests program, loaded and attached: finds (or compiles) its object file, selects the traced
/// processes in its filter maps and keeps a comm-name selection current.
/// </summary>
internal sealed class HttpRequestsProbe : IDisposable
{
    public const string SourceFileName = "http_requests.bpf.c", ObjectFileName = "http_requests.bpf.o";

    private readonly LibBpfObject _object;
    private readonly int _tracedTgids;
    private readonly HashSet<int> _selected = [];
    private readonly IReadOnlyList<string> _comms;
    private readonly ILogger _logger;

    public HttpRequestsProbe(EbpfReceiverConfig config, ILogger logger)
    {
        _logger = logger;
        _comms = config.Comm;
        var objectFile = LocateObjectFile(logger);
        if (Tracefs.EnsureMounted()) logger.LogInformation("mounted tracefs at {MountPoint}", Tracefs.MountPoint);
        _object = LibBpfObject.LoadAndAttach(objectFile);
        try
        {
            EventsMapFd = _object.MapFd("events");
            OutputFailuresMapFd = _object.MapFd("output_failures");
            _tracedTgids = _object.MapFd("traced_tgids");
            foreach (var pid in config.Pids) Select(pid);
            if (config.Cgroup is not null)
            {
                Span<byte> key = stackalloc byte[8];
                System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(key, FileInode.Of(config.Cgroup));
                BpfSyscalls.UpdateElement(_object.MapFd("traced_cgroups"), key, [1]);
            }
            RescanComms();
        }
        catch
        {
            _object.Dispose();
            throw;
        }
    }

    public int EventsMapFd { get; }

    public int OutputFailuresMapFd { get; }

    private void Select(int pid)
    {
        if (!_selected.Add(pid)) return;
        Span<byte> key = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(key, pid);
        BpfSyscalls.UpdateElement(_tracedTgids, key, [1]);
    }

    /// <summary>Adds processes whose /proc/&lt;pid&gt;/comm is one of the configured names.</summary>
    public void RescanComms()
    {
        if (_comms.Count == 0) return;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || _selected.Contains(pid)) continue;
            string comm;
            try
            {
                comm = File.ReadAllText(Path.Combine(dir, "comm")).TrimEnd('\n');
            }
            catch (IOException)
            {
                continue; // exited meanwhile
            }
            if (!_comms.Contains(comm)) continue;
            Select(pid);
            _logger.LogInformation("tracing HTTP requests of pid {Pid} ({Comm})", pid, comm);
        }
    }

    /// <summary>
    /// The object built next to the assembly by the Receivers build (clang present at build time), else one compiled
    /// now from the bundled source into a cache directory.
    /// </summary>
    internal static string LocateObjectFile(ILogger logger)
    {
        var bpfDir = Path.Combine(AppContext.BaseDirectory, "bpf");
        var built = Path.Combine(bpfDir, ObjectFileName);
        if (File.Exists(built)) return built;
        var source = Path.Combine(bpfDir, SourceFileName);
        if (!File.Exists(source)) throw new InvalidOperationException($"the bundled BPF program is missing: neither {built} nor {source} exists");
        var cacheDir = Path.Combine(Path.GetTempPath(), "otelai-bpf");
        Directory.CreateDirectory(cacheDir);
        var hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(source)))[..16];
        var output = Path.Combine(cacheDir, $"http_requests-{hash}.bpf.o");
        if (File.Exists(output)) return output;
        logger.LogInformation("compiling the bundled BPF program {Source} with clang", source);
        Compile(source, output);
        return output;
    }

    internal static void Compile(string source, string output)
    {
        var arch = System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.Arm64 ? "aarch64" : "x86_64";
        var start = new ProcessStartInfo("clang") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in (string[])["-O2", "-g", "-target", "bpf", $"-I/usr/include/{arch}-linux-gnu", "-c", source, "-o", output + ".tmp"])
            start.ArgumentList.Add(arg);
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("the bundled BPF program was not built and clang is not installed to compile it: install clang and libbpf-dev (Debian/Ubuntu), or run a build made on a machine with clang", e);
        }
        var errors = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"clang failed to compile {source} (exit {process.ExitCode}): {errors.Result}");
        File.Move(output + ".tmp", output, overwrite: true);
    }

    public void Dispose() => _object.Dispose();
}
