using System.Runtime.InteropServices;

namespace OtelAi.Receivers.Ebpf.Native;

/// <summary>The libc entry points the eBPF receiver needs (x86-64 and arm64 Linux numbers).</summary>
internal static partial class LibC
{
    private const string Lib = "libc";

    public const int ProtRead = 1, ProtWrite = 2, MapShared = 1;
    public const int EpollCtlAdd = 1, EpollIn = 1;
    public const int ClockRealtime = 0, ClockMonotonic = 1;
    public const int Eintr = 4, Eagain = 11, Eperm = 1, Eacces = 13, Enoent = 2;

    public static long SysBpf => RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 280 : 321;
    public static long SysPerfEventOpen => RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 241 : 298;

    [LibraryImport(Lib, EntryPoint = "syscall", SetLastError = true)]
    public static partial long Syscall(long number, nint a1, nint a2, nint a3, nint a4, nint a5);

    [LibraryImport(Lib, EntryPoint = "mmap", SetLastError = true)]
    public static partial nint Mmap(nint address, nuint length, int prot, int flags, int fd, long offset);

    [LibraryImport(Lib, EntryPoint = "munmap", SetLastError = true)]
    public static partial int Munmap(nint address, nuint length);

    [LibraryImport(Lib, EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, nuint request, nint argument);

    [LibraryImport(Lib, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport(Lib, EntryPoint = "epoll_create1", SetLastError = true)]
    public static partial int EpollCreate1(int flags);

    [LibraryImport(Lib, EntryPoint = "epoll_ctl", SetLastError = true)]
    public static partial int EpollCtl(int epfd, int op, int fd, ref EpollEvent ev);

    [LibraryImport(Lib, EntryPoint = "epoll_wait", SetLastError = true)]
    public static unsafe partial int EpollWait(int epfd, EpollEvent* events, int maxEvents, int timeoutMs);

    [LibraryImport(Lib, EntryPoint = "clock_gettime", SetLastError = true)]
    public static partial int ClockGettime(int clock, out TimeSpec time);

    [LibraryImport(Lib, EntryPoint = "mount", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int Mount(string source, string target, string fsType, nuint flags, nint data);

    [LibraryImport(Lib, EntryPoint = "getpagesize")]
    public static partial int GetPageSize();

    /// <summary>epoll_event is packed on x86-64 (12 bytes) and naturally aligned elsewhere.</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    public struct EpollEvent
    {
        public uint Events;
        public ulong Data;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    public static long ClockNanoseconds(int clock)
    {
        if (ClockGettime(clock, out var t) != 0) throw Errno.Exception($"clock_gettime({clock})");
        return t.Seconds * 1_000_000_000L + t.Nanoseconds;
    }
}

/// <summary>Turns the last P/Invoke errno into an exception that names the call and the errno.</summary>
internal static class Errno
{
    public static int Last => Marshal.GetLastPInvokeError();

    public static NativeCallException Exception(string call) => new(call, Last);
}

/// <summary>A failed system or libbpf call, with its errno.</summary>
public sealed class NativeCallException(string call, int errno)
    : Exception($"{call} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})")
{
    public int Errno { get; } = errno;

    public bool IsPermissionDenied => Errno is LibC.Eperm or LibC.Eacces;
}

/// <summary>Inode numbers (a cgroup v2 directory's inode is its cgroup id, as bpf_get_current_cgroup_id returns).</summary>
internal static unsafe partial class FileInode
{
    [LibraryImport("libc", EntryPoint = "stat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Stat(string path, byte* buffer);

    public static ulong Of(string path)
    {
        var buffer = stackalloc byte[256]; // struct stat: st_dev (u64) then st_ino (u64) on x86-64 and arm64
        if (Stat(path, buffer) != 0) throw Errno.Exception($"stat({path})");
        return *(ulong*)(buffer + 8);
    }
}
