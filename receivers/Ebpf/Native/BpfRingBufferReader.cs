using System.Buffers;

namespace OtelAi.Receivers.Ebpf.Native;

/// <summary>
/// Consumer side of a BPF_MAP_TYPE_RINGBUF: a consumer position (u64, ours to write), a producer position (u64, the
/// kernel's) and 2^n data bytes of 8-byte-aligned records, each behind a {u32 len; u32 pg_off} header whose bit 31
/// (BUSY) marks a reservation not yet committed and bit 30 (DISCARD) a record to skip. The kernel maps the data twice
/// so records are contiguous there; on synthetic memory (one copy) a record crossing the end is stitched.
/// The ring buffer has no in-band loss records: losses are counted by the BPF program.
/// </summary>
internal sealed unsafe class BpfRingBufferReader(byte* consumerPosition, byte* producerPosition, byte* data, ulong dataSize)
{
    public const uint BusyBit = 1u << 31, DiscardBit = 1u << 30;
    private const int HeaderSize = 8;

    private readonly ulong _mask = CheckPowerOfTwo(dataSize) - 1;
    private byte[] _stitch = [];

    private static ulong CheckPowerOfTwo(ulong size) =>
        size != 0 && (size & (size - 1)) == 0 ? size : throw new ArgumentException($"ring buffer size {size} is not a power of two");

    /// <summary>Consumes committed records up to the first BUSY one; returns the number delivered.</summary>
    public int Drain(IRingRecordSink sink)
    {
        var consumer = Volatile.Read(ref *(ulong*)consumerPosition);
        var delivered = 0;
        bool progressed;
        do
        {
            progressed = false;
            var producer = Volatile.Read(ref *(ulong*)producerPosition); // acquire
            while (consumer < producer)
            {
                var header = Volatile.Read(ref *(uint*)(data + (consumer & _mask))); // acquire: pairs with the commit
                if ((header & BusyBit) != 0) goto done; // reserved but not yet committed: later records wait
                var length = header & ~(BusyBit | DiscardBit);
                var start = consumer + HeaderSize;
                consumer += (length + HeaderSize + 7) & ~7UL;
                if ((header & DiscardBit) == 0)
                {
                    sink.OnSample(0, PayloadAt(start & _mask, (int)length));
                    delivered++;
                }
                Volatile.Write(ref *(ulong*)consumerPosition, consumer); // release: the space may be reused
                progressed = true;
            }
        } while (progressed);
        done:
        return delivered;
    }

    private ReadOnlySpan<byte> PayloadAt(ulong at, int length)
    {
        var size = _mask + 1;
        var first = (int)Math.Min((ulong)length, size - at);
        if (first == length) return new ReadOnlySpan<byte>(data + at, length);
        if (_stitch.Length < length)
        {
            if (_stitch.Length > 0) ArrayPool<byte>.Shared.Return(_stitch);
            _stitch = ArrayPool<byte>.Shared.Rent(length);
        }
        new ReadOnlySpan<byte>(data + at, first).CopyTo(_stitch);
        new ReadOnlySpan<byte>(data, length - first).CopyTo(_stitch.AsSpan(first));
        return _stitch.AsSpan(0, length);
    }
}
