using System.Runtime.InteropServices;

namespace OtelAi.Receivers.Ebpf.Native;

/// <summary>epoll over the fds of one source; data = index of the ring to drain.</summary>
internal sealed unsafe class Epoll : IDisposable
{
    private readonly int _fd;
    private readonly LibC.EpollEvent[] _ready;

    public Epoll(int capacity)
    {
        _fd = LibC.EpollCreate1(0x80000 /* EPOLL_CLOEXEC */);
        if (_fd < 0) throw Errno.Exception("epoll_create1");
        _ready = new LibC.EpollEvent[Math.Max(1, capacity)];
    }

    public void Add(int fd, int index)
    {
        var ev = new LibC.EpollEvent { Events = LibC.EpollIn, Data = (ulong)index };
        if (LibC.EpollCtl(_fd, LibC.EpollCtlAdd, fd, ref ev) != 0) throw Errno.Exception($"epoll_ctl(ADD, fd {fd})");
    }

    /// <summary>Waits for readiness and returns the ready indexes (empty on timeout or EINTR).</summary>
    public ReadOnlySpan<LibC.EpollEvent> Wait(int timeoutMs)
    {
        fixed (LibC.EpollEvent* p = _ready)
        {
            var n = LibC.EpollWait(_fd, p, _ready.Length, timeoutMs);
            if (n < 0)
            {
                if (Errno.Last == LibC.Eintr) return [];
                throw Errno.Exception("epoll_wait");
            }
            return _ready.AsSpan(0, n);
        }
    }

    public void Dispose() => LibC.Close(_fd);
}

/// <summary>A stream of raw records from the kernel (or a recording), polled by one thread.</summary>
internal interface IRecordSource : IDisposable
{
    /// <summary>Waits up to <paramref name="timeoutMs"/> for data, then drains what is ready into <paramref name="sink"/>.</summary>
    int Poll(IRingRecordSink sink, int timeoutMs);

    /// <summary>True when no record will ever come again (end of a recording).</summary>
    bool Completed => false;
}

/// <summary>
/// A BPF_MAP_TYPE_PERF_EVENT_ARRAY made readable: per online CPU a software BPF_OUTPUT perf event with
/// PERF_SAMPLE_RAW, its ring mapped (1 + 2^n pages), enabled, and its fd stored in the map at key = cpu.
/// </summary>
internal sealed unsafe class PerfEventArraySource : IRecordSource
{
    private const uint PerfTypeSoftware = 1, PerfCountSwBpfOutput = 10, PerfSampleRaw = 1 << 10;
    private const ulong FlagWatermark = 1UL << 14;
    private const nuint PerfEventIocEnable = 0x2400;
    private const nint PerfFlagFdCloexec = 8;

    /// <summary>struct perf_event_attr up to PERF_ATTR_SIZE_VER5 (112 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct PerfEventAttr
    {
        public uint Type;
        public uint Size;
        public ulong Config;
        public ulong SamplePeriod;
        public ulong SampleType;
        public ulong ReadFormat;
        public ulong Flags;
        public uint WakeupEventsOrWatermark;
        public uint BpType;
        public ulong Config1;
        public ulong Config2;
        public ulong BranchSampleType;
        public ulong SampleRegsUser;
        public uint SampleStackUser;
        public int ClockId;
        public ulong SampleRegsIntr;
        public uint AuxWatermark;
        public ushort SampleMaxStack;
        public ushort Reserved;
    }

    private readonly List<(int Fd, nint Mapping, PerfRing Ring)> _rings = [];
    private readonly nuint _mappingLength;
    private readonly Epoll _epoll;

    /// <param name="wakeupWatermarkBytes">0: wake up on every record; else when this many bytes are waiting (at most half the ring, so a wakeup comes before it is full).</param>
    public PerfEventArraySource(int mapFd, IReadOnlyList<int> cpus, int pagesPerCpu, int wakeupWatermarkBytes)
    {
        var pageSize = LibC.GetPageSize();
        _mappingLength = (nuint)((1 + pagesPerCpu) * (long)pageSize);
        wakeupWatermarkBytes = (int)Math.Min(wakeupWatermarkBytes, pagesPerCpu * (long)pageSize / 2);
        _epoll = new Epoll(cpus.Count);
        try
        {
            foreach (var cpu in cpus) OpenCpu(mapFd, cpu, pageSize, wakeupWatermarkBytes);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private void OpenCpu(int mapFd, int cpu, int pageSize, int wakeupWatermarkBytes)
    {
        var attr = new PerfEventAttr
        {
            Type = PerfTypeSoftware,
            Size = (uint)sizeof(PerfEventAttr),
            Config = PerfCountSwBpfOutput,
            SamplePeriod = 1,
            SampleType = PerfSampleRaw,
            Flags = wakeupWatermarkBytes > 0 ? FlagWatermark : 0,
            WakeupEventsOrWatermark = wakeupWatermarkBytes > 0 ? (uint)wakeupWatermarkBytes : 1,
        };
        var fd = (int)LibC.Syscall(LibC.SysPerfEventOpen, (nint)(&attr), -1, cpu, -1, PerfFlagFdCloexec);
        if (fd < 0) throw Errno.Exception($"perf_event_open(BPF_OUTPUT, cpu {cpu})");
        var mapping = LibC.Mmap(0, _mappingLength, LibC.ProtRead | LibC.ProtWrite, LibC.MapShared, fd, 0);
        if (mapping == -1)
        {
            var error = Errno.Exception($"mmap(perf ring, cpu {cpu}, {_mappingLength} bytes)");
            LibC.Close(fd);
            throw error;
        }
        _rings.Add((fd, mapping, new PerfRing((byte*)mapping, pageSize, (long)_mappingLength, cpu)));
        if (LibC.Ioctl(fd, PerfEventIocEnable, 0) != 0) throw Errno.Exception($"ioctl(PERF_EVENT_IOC_ENABLE, cpu {cpu})");
        BpfSyscalls.UpdateElement(mapFd, (uint)cpu, (uint)fd);
        _epoll.Add(fd, _rings.Count - 1);
    }

    public int Poll(IRingRecordSink sink, int timeoutMs)
    {
        var ready = _epoll.Wait(timeoutMs);
        var samples = 0;
        if (ready.IsEmpty)
        {
            // Timeout: drain everything, so records below a wakeup watermark still leave within one poll interval.
            foreach (var r in _rings) samples += r.Ring.Drain(sink);
            return samples;
        }
        foreach (var ev in ready) samples += _rings[(int)ev.Data].Ring.Drain(sink);
        return samples;
    }

    public void Dispose()
    {
        foreach (var (fd, mapping, _) in _rings)
        {
            LibC.Munmap(mapping, _mappingLength);
            LibC.Close(fd);
        }
        _rings.Clear();
        _epoll.Dispose();
    }
}

/// <summary>A BPF_MAP_TYPE_RINGBUF: consumer page mapped read-write, producer page + data (mapped twice) read-only.</summary>
internal sealed unsafe class RingBufferSource : IRecordSource
{
    private readonly nint _consumer;
    private readonly nint _producer;
    private readonly nuint _pageSize;
    private readonly nuint _producerLength;
    private readonly Epoll _epoll;
    private readonly BpfRingBufferReader _reader;

    public RingBufferSource(int mapFd, uint dataSize)
    {
        _pageSize = (nuint)LibC.GetPageSize();
        _producerLength = _pageSize + 2 * (nuint)dataSize;
        _consumer = LibC.Mmap(0, _pageSize, LibC.ProtRead | LibC.ProtWrite, LibC.MapShared, mapFd, 0);
        if (_consumer == -1) throw Errno.Exception("mmap(ring buffer consumer page)");
        _producer = LibC.Mmap(0, _producerLength, LibC.ProtRead, LibC.MapShared, mapFd, (long)_pageSize);
        if (_producer == -1)
        {
            var error = Errno.Exception("mmap(ring buffer producer page and data)");
            LibC.Munmap(_consumer, _pageSize);
            throw error;
        }
        _reader = new BpfRingBufferReader((byte*)_consumer, (byte*)_producer, (byte*)_producer + _pageSize, dataSize);
        _epoll = new Epoll(1);
        _epoll.Add(mapFd, 0);
    }

    public int Poll(IRingRecordSink sink, int timeoutMs)
    {
        _epoll.Wait(timeoutMs);
        return _reader.Drain(sink);
    }

    public void Dispose()
    {
        _epoll.Dispose();
        LibC.Munmap(_producer, _producerLength);
        LibC.Munmap(_consumer, _pageSize);
    }
}
