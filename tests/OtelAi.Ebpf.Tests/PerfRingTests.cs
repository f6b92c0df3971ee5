using System.Buffers.Binary;
using OtelAi.Receivers.Ebpf.Native;

namespace OtelAi.Ebpf.Tests;

/// <summary>The perf ring consumer on synthetic memory laid out like the kernel's mapping (control page + 2^n bytes).</summary>
public sealed unsafe class PerfRingTests
{
    private const int PageSize = 4096, DataSize = 4096;

    /// <summary>A pinned control page + data area, with helpers that write records the way the kernel does.</summary>
    private sealed class SyntheticPerfRing
    {
        public readonly byte[] Memory = GC.AllocateArray<byte>(PageSize + DataSize, pinned: true);
        private ulong _written;

        public SyntheticPerfRing(ulong start = 0)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(Memory.AsSpan(PerfRing.DataOffsetOffset), PageSize);
            BinaryPrimitives.WriteUInt64LittleEndian(Memory.AsSpan(PerfRing.DataSizeOffset), DataSize);
            Head = Tail = _written = start;
        }

        public ulong Head
        {
            get => BinaryPrimitives.ReadUInt64LittleEndian(Memory.AsSpan(PerfRing.DataHeadOffset));
            set => BinaryPrimitives.WriteUInt64LittleEndian(Memory.AsSpan(PerfRing.DataHeadOffset), value);
        }

        public ulong Tail
        {
            get => BinaryPrimitives.ReadUInt64LittleEndian(Memory.AsSpan(PerfRing.DataTailOffset));
            set => BinaryPrimitives.WriteUInt64LittleEndian(Memory.AsSpan(PerfRing.DataTailOffset), value);
        }

        public PerfRing Reader()
        {
            fixed (byte* p = Memory) return new PerfRing(p, PageSize, Memory.Length, cpu: 3);
        }

        /// <summary>Writes a PERF_RECORD_SAMPLE with PERF_SAMPLE_RAW: the raw size includes the kernel's padding.</summary>
        public void WriteSample(ReadOnlySpan<byte> raw, bool publish = true)
        {
            var paddedRaw = (raw.Length + 4 + 7) / 8 * 8 - 4;
            var record = new byte[8 + 4 + paddedRaw];
            BinaryPrimitives.WriteUInt32LittleEndian(record, PerfRing.RecordSample);
            BinaryPrimitives.WriteUInt16LittleEndian(record.AsSpan(6), (ushort)record.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(8), (uint)paddedRaw);
            raw.CopyTo(record.AsSpan(12));
            Write(record, publish);
        }

        public void WriteLost(ulong count)
        {
            var record = new byte[24];
            BinaryPrimitives.WriteUInt32LittleEndian(record, PerfRing.RecordLost);
            BinaryPrimitives.WriteUInt16LittleEndian(record.AsSpan(6), 24);
            BinaryPrimitives.WriteUInt64LittleEndian(record.AsSpan(8), 77);
            BinaryPrimitives.WriteUInt64LittleEndian(record.AsSpan(16), count);
            Write(record, publish: true);
        }

        private void Write(byte[] record, bool publish)
        {
            for (var i = 0; i < record.Length; i++) Memory[PageSize + (int)((_written + (ulong)i) % DataSize)] = record[i];
            _written += (ulong)record.Length;
            if (publish) Head = _written;
        }

        public void PublishAll() => Head = _written;
    }

    private static byte[] Payload(int length, byte seed) => Enumerable.Range(0, length).Select(i => (byte)(seed + i)).ToArray();

    [Fact]
    public void Delivers_samples_in_order_and_publishes_the_tail()
    {
        var ring = new SyntheticPerfRing();
        ring.WriteSample(Payload(16, 1));
        ring.WriteSample(Payload(40, 2));
        var sink = new RecordingSink();

        Assert.Equal(2, ring.Reader().Drain(sink));

        Assert.Equal([Payload(16, 1).Concat(new byte[4]).ToArray(), Payload(40, 2).Concat(new byte[4]).ToArray()], sink.Samples.Select(s => s.Payload));
        Assert.All(sink.Samples, s => Assert.Equal(3, s.Cpu));
        Assert.Equal(ring.Head, ring.Tail);
    }

    [Fact]
    public void Raw_sizes_are_padded_so_payloads_carry_the_padding()
    {
        var ring = new SyntheticPerfRing();
        ring.WriteSample(Payload(5, 9)); // 8 header + 4 size + 5 data → 24 bytes: raw size 12
        var sink = new RecordingSink();
        ring.Reader().Drain(sink);
        Assert.Equal(12, sink.Samples.Single().Payload.Length);
        Assert.Equal(Payload(5, 9), sink.Samples.Single().Payload[..5]);
    }

    [Fact]
    public void Stitches_a_record_that_wraps_around_the_ring_end()
    {
        // Start 24 bytes before the end: the 8-byte header fits, the raw data continues at the ring's start.
        var ring = new SyntheticPerfRing(start: 3 * DataSize - 24);
        var payload = Payload(100, 50);
        ring.WriteSample(payload);
        ring.WriteSample(Payload(8, 7));
        var sink = new RecordingSink();

        Assert.Equal(2, ring.Reader().Drain(sink));

        Assert.Equal(payload, sink.Samples[0].Payload[..100]);
        Assert.Equal(Payload(8, 7), sink.Samples[1].Payload[..8]);
        Assert.Equal(ring.Head, ring.Tail);
    }

    [Fact]
    public void Lost_records_are_reported_as_counts()
    {
        var ring = new SyntheticPerfRing();
        ring.WriteSample(Payload(8, 1));
        ring.WriteLost(42);
        ring.WriteSample(Payload(8, 2));
        var sink = new RecordingSink();

        Assert.Equal(2, ring.Reader().Drain(sink));
        Assert.Equal(42UL, sink.Lost);
    }

    [Fact]
    public void A_record_not_yet_published_by_data_head_is_left_for_later()
    {
        var ring = new SyntheticPerfRing();
        ring.WriteSample(Payload(8, 1));
        ring.WriteSample(Payload(8, 2), publish: false); // the kernel is still writing it
        var reader = ring.Reader();
        var sink = new RecordingSink();

        Assert.Equal(1, reader.Drain(sink));
        Assert.Equal(ring.Head, ring.Tail);

        ring.PublishAll();
        Assert.Equal(1, reader.Drain(sink));
        Assert.Equal(Payload(8, 2), sink.Samples[1].Payload[..8]);
    }

    [Fact]
    public void An_empty_ring_delivers_nothing()
    {
        var ring = new SyntheticPerfRing(start: 1000);
        var sink = new RecordingSink();
        Assert.Equal(0, ring.Reader().Drain(sink));
        Assert.Equal(1000UL, ring.Tail);
    }
}
