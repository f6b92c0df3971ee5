using System.Runtime.InteropServices;
using System.Text;

namespace OtelAi.Receivers.Ebpf.Native;

/// <summary>The bpf(2) commands the read path needs, issued directly (no libbpf).</summary>
internal static unsafe class BpfSyscalls
{
    private const int MapLookupElem = 1, MapUpdateElem = 2, ObjGet = 7, ObjGetInfoByFd = 15;

    public const uint MapTypePercpuArray = 6, MapTypePerfEventArray = 4, MapTypeRingBuf = 27;

    [StructLayout(LayoutKind.Sequential)]
    private struct MapElemAttr
    {
        public uint MapFd;
        public uint Pad;
        public ulong Key;
        public ulong Value;
        public ulong Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct ObjGetAttr
    {
        public ulong PathName;
        public uint BpfFd;
        public uint FileFlags;
        public int PathFd;
        public uint Pad;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct InfoAttr
    {
        public uint BpfFd;
        public uint InfoLen;
        public ulong Info;
    }

    /// <summary>The head of struct bpf_map_info (the kernel fills as much as we ask for).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct MapInfo
    {
        public uint Type;
        public uint Id;
        public uint KeySize;
        public uint ValueSize;
        public uint MaxEntries;
        public uint MapFlags;
        public fixed byte Name[16];

        public string NameString
        {
            get
            {
                fixed (byte* p = Name) return Encoding.ASCII.GetString(new ReadOnlySpan<byte>(p, 16)).TrimEnd('\0');
            }
        }
    }

    private static int Bpf<T>(int command, ref T attr, string what) where T : unmanaged
    {
        fixed (T* p = &attr)
        {
            var r = LibC.Syscall(LibC.SysBpf, command, (nint)p, sizeof(T), 0, 0);
            if (r < 0) throw Errno.Exception(what);
            return (int)r;
        }
    }

    public static void UpdateElement(int mapFd, uint key, uint value)
    {
        var attr = new MapElemAttr { MapFd = (uint)mapFd, Key = (ulong)&key, Value = (ulong)&value };
        Bpf(MapUpdateElem, ref attr, $"BPF_MAP_UPDATE_ELEM(fd {mapFd}, key {key})");
    }

    public static void UpdateElement(int mapFd, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        fixed (byte* k = key)
        fixed (byte* v = value)
        {
            var attr = new MapElemAttr { MapFd = (uint)mapFd, Key = (ulong)k, Value = (ulong)v };
            Bpf(MapUpdateElem, ref attr, $"BPF_MAP_UPDATE_ELEM(fd {mapFd})");
        }
    }

    /// <summary>Sum of a per-CPU u64 counter at <paramref name="key"/> (the value holds one u64 per possible CPU).</summary>
    public static ulong SumPerCpuCounter(int mapFd, uint key, int possibleCpus)
    {
        var values = stackalloc ulong[possibleCpus];
        var attr = new MapElemAttr { MapFd = (uint)mapFd, Key = (ulong)&key, Value = (ulong)values };
        Bpf(MapLookupElem, ref attr, $"BPF_MAP_LOOKUP_ELEM(fd {mapFd}, key {key})");
        ulong sum = 0;
        for (var i = 0; i < possibleCpus; i++) sum += values[i];
        return sum;
    }

    /// <summary>Opens a pinned object (BPF_OBJ_GET) and returns its fd.</summary>
    public static int ObjectGet(string path)
    {
        var bytes = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
        {
            var attr = new ObjGetAttr { PathName = (ulong)p };
            return Bpf(ObjGet, ref attr, $"BPF_OBJ_GET({path})");
        }
    }

    public static MapInfo GetMapInfo(int mapFd)
    {
        var info = new MapInfo();
        var attr = new InfoAttr { BpfFd = (uint)mapFd, InfoLen = (uint)sizeof(MapInfo), Info = (ulong)&info };
        Bpf(ObjGetInfoByFd, ref attr, $"BPF_OBJ_GET_INFO_BY_FD(fd {mapFd})");
        return info;
    }
}
