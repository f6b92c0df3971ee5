using System.Runtime.InteropServices;

namespace OtelAi.Receivers.Ebpf.Native;

/// <summary>
/// A BPF object file loaded and attached through libbpf (libbpf.so.1). libbpf is used for loading only (relocations,
/// map creation, verifier, attach by section name); reading events never goes through it.
/// </summary>
internal sealed partial class LibBpfObject : IDisposable
{
    private const string Lib = "libbpf.so.1";

    [LibraryImport(Lib, EntryPoint = "bpf_object__open_file", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial nint OpenFile(string path, nint options);

    [LibraryImport(Lib, EntryPoint = "bpf_object__load", SetLastError = true)]
    private static partial int Load(nint obj);

    [LibraryImport(Lib, EntryPoint = "bpf_object__next_program")]
    private static partial nint NextProgram(nint obj, nint previous);

    [LibraryImport(Lib, EntryPoint = "bpf_program__name")]
    private static partial nint ProgramName(nint program);

    [LibraryImport(Lib, EntryPoint = "bpf_program__attach", SetLastError = true)]
    private static partial nint Attach(nint program);

    [LibraryImport(Lib, EntryPoint = "bpf_link__destroy")]
    private static partial int DestroyLink(nint link);

    [LibraryImport(Lib, EntryPoint = "bpf_object__close")]
    private static partial void CloseObject(nint obj);

    [LibraryImport(Lib, EntryPoint = "bpf_object__find_map_fd_by_name", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int FindMapFd(nint obj, string name);

    private nint _object;
    private readonly List<nint> _links = [];

    private LibBpfObject(nint obj) => _object = obj;

    /// <summary>Opens, loads (verifier) and attaches every program of <paramref name="objectFile"/>.</summary>
    public static LibBpfObject LoadAndAttach(string objectFile)
    {
        nint obj;
        try
        {
            obj = OpenFile(objectFile, 0);
        }
        catch (DllNotFoundException e)
        {
            throw new InvalidOperationException("libbpf.so.1 is not installed (Debian/Ubuntu package libbpf1)", e);
        }
        if (obj == 0) throw Errno.Exception($"bpf_object__open_file({objectFile})");
        var loaded = new LibBpfObject(obj);
        try
        {
            var r = Load(obj);
            if (r < 0) throw new NativeCallException($"bpf_object__load({objectFile}) (libbpf printed the verifier log to stderr)", -r);
            for (var program = NextProgram(obj, 0); program != 0; program = NextProgram(obj, program))
            {
                var link = Attach(program);
                if (link == 0) throw Errno.Exception($"bpf_program__attach({Marshal.PtrToStringUTF8(ProgramName(program))})");
                loaded._links.Add(link);
            }
            return loaded;
        }
        catch
        {
            loaded.Dispose();
            throw;
        }
    }

    public int MapFd(string name)
    {
        var fd = FindMapFd(_object, name);
        return fd >= 0 ? fd : throw new InvalidOperationException($"the BPF object has no map named \"{name}\"");
    }

    public void Dispose()
    {
        foreach (var link in _links) DestroyLink(link);
        _links.Clear();
        if (_object != 0) CloseObject(_object);
        _object = 0;
    }
}

/// <summary>Makes tracefs available: tracepoint attachment reads event ids from it.</summary>
internal static class Tracefs
{
    public const string MountPoint = "/sys/kernel/tracing";

    /// <summary>Mounts tracefs at <see cref="MountPoint"/> when its events are not visible; returns whether it mounted.</summary>
    public static bool EnsureMounted()
    {
        if (Directory.Exists(Path.Combine(MountPoint, "events")) || Directory.Exists("/sys/kernel/debug/tracing/events")) return false;
        if (LibC.Mount("nodev", MountPoint, "tracefs", 0, 0) != 0)
            throw new InvalidOperationException($"tracefs is not mounted and mounting it at {MountPoint} failed: " +
                Errno.Exception("mount(tracefs)").Message + "; mount it (mount -t tracefs nodev /sys/kernel/tracing) or grant CAP_SYS_ADMIN");
        return true;
    }
}
