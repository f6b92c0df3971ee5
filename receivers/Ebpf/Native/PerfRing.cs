using System.Buffers;
using System.Buffers.Binary;

namespace OtelAi.Receivers.Ebpf.Native;

/// <summary>
/// Consumer side of one CPU's perf ring buffer, over memory laid out like the kernel's mmap: a control page
/// (struct perf_event_mmap_page) followed by 2^n data bytes. Works on the real mapping and on synthetic memory.
/// The kernel publishes data_head after a record is complete, so records past the head are never read (a partial
/// write is invisible); we publish data_tail after consuming, which frees the space.
/// </summary>
internal sealed unsafe class PerfRing
{
    public const int DataHeadOffset = 1024, DataTailOffset = 1032, DataOffsetOffset = 1040, DataSizeOffset = 1048;
    public const uint RecordLost = 2, RecordSample = 9;
    private const int HeaderSize = 8;

    private readonly byte* _control;
    private readonly byte* _data;
    private readonly ulong _mask;
    private byte[] _stitch = [];

    /// <param name="mapping">Start of the control page.</param>
    /// <param name="pageSize">Used when the kernel leaves data_offset/data_size zero (kernels before 4.1).</param>
    /// <param name="mappingLength">Bytes mapped (1 + 2^n pages).</param>
    public PerfRing(byte* mapping, int pageSize, long mappingLength, int cpu)
    {
        _control = mapping;
        var offset = *(ulong*)(mapping + DataOffsetOffset);
        var size = *(ulong*)(mapping + DataSizeOffset);
        if (offset == 0) (offset, size) = ((ulong)pageSize, (ulong)(mappingLength - pageSize));
        if (size == 0 || (size & (size - 1)) != 0) throw new ArgumentException($"perf ring data size {size} is not a power of two");
        _data = mapping + offset;
        _mask = size - 1;
        Cpu = cpu;
    }

    public int Cpu { get; }

    public ulong Size => _mask + 1;

    /// <summary>Consumes every complete record; returns the number of SAMPLE records delivered.</summary>
    public int Drain(IRingRecordSink sink)
    {
        var head = Volatile.Read(ref *(ulong*)(_control + DataHeadOffset)); // acquire: record bytes before head are visible
        var tail = *(ulong*)(_control + DataTailOffset);
        var samples = 0;
        while (tail < head)
        {
            var at = tail & _mask;
            // Records are 8-byte aligned and 8-byte multiples, so a header never straddles the ring end.
            var header = new ReadOnlySpan<byte>(_data + at, HeaderSize);
            var type = BinaryPrimitives.ReadUInt32LittleEndian(header);
            var size = BinaryPrimitives.ReadUInt16LittleEndian(header[6..]);
            if (size < HeaderSize || tail + size > head)
            {
                // A corrupt header would desynchronise every later record: skip to the head and report it as lost.
                sink.OnLost(Cpu, 1);
                tail = head;
                break;
            }
            var record = RecordAt(at, size);
            switch (type)
            {
                case RecordSample when size >= HeaderSize + 4:
                    var rawSize = BinaryPrimitives.ReadUInt32LittleEndian(record[HeaderSize..]);
                    var available = size - HeaderSize - 4;
                    sink.OnSample(Cpu, record.Slice(HeaderSize + 4, (int)Math.Min(rawSize, (uint)available)));
                    samples++;
                    break;
                case RecordLost when size >= HeaderSize + 16:
                    sink.OnLost(Cpu, BinaryPrimitives.ReadUInt64LittleEndian(record[(HeaderSize + 8)..]));
                    break;
            }
            tail += size;
        }
        Volatile.Write(ref *(ulong*)(_control + DataTailOffset), tail); // release: we are done reading before the kernel reuses it
        return samples;
    }

    /// <summary>The record at <paramref name="at"/>: in place, or stitched from the ring's end and start.</summary>
    private ReadOnlySpan<byte> RecordAt(ulong at, int size)
    {
        var first = (int)Math.Min((ulong)size, Size - at);
        if (first == size) return new ReadOnlySpan<byte>(_data + at, size);
        if (_stitch.Length < size)
        {
            if (_stitch.Length > 0) ArrayPool<byte>.Shared.Return(_stitch);
            _stitch = ArrayPool<byte>.Shared.Rent(size);
        }
        new ReadOnlySpan<byte>(_data + at, first).CopyTo(_stitch);
        new ReadOnlySpan<byte>(_data, size - first).CopyTo(_stitch.AsSpan(first));
        return _stitch.AsSpan(0, size);
    }
}
