using System.Buffers.Binary;
using OtelAi.Receivers.Ebpf.Native;

namespace OtelAi.Ebpf.Tests;

/// <summary>The BPF ring buffer consumer on synthetic memory: positions, 8-byte headers, BUSY/DISCARD, alignment.</summary>
public sealed unsafe class RingBufferReaderTests
{
    private const int DataSize = 256;

    private sealed class SyntheticRingBuffer
    {
        public readonly byte[] Consumer = GC.AllocateArray<byte>(8, pinned: true);
        public readonly byte[] Producer = GC.AllocateArray<byte>(8, pinned: true);
        public readonly byte[] Data = GC.AllocateArray<byte>(DataSize, pinned: true);
        private ulong _reserved;

        public SyntheticRingBuffer(ulong start = 0)
        {
            ConsumerPosition = ProducerPosition = _reserved = start;
        }

        public ulong ConsumerPosition
        {
            get => BinaryPrimitives.ReadUInt64LittleEndian(Consumer);
            set => BinaryPrimitives.WriteUInt64LittleEndian(Consumer, value);
        }

        public ulong ProducerPosition
        {
            get => BinaryPrimitives.ReadUInt64LittleEndian(Producer);
            set => BinaryPrimitives.WriteUInt64LittleEndian(Producer, value);
        }

        public BpfRingBufferReader Reader()
        {
            fixed (byte* c = Consumer) fixed (byte* p = Producer) fixed (byte* d = Data)
                return new BpfRingBufferReader(c, p, d, DataSize);
        }

        /// <summary>bpf_ringbuf_reserve (+ submit/discard): returns the header position to commit later.</summary>
        public ulong Reserve(byte[] payload, uint flags)
        {
            var at = _reserved;
            BinaryPrimitives.WriteUInt32LittleEndian(Data.AsSpan((int)(at % DataSize)), (uint)payload.Length | flags);
            for (var i = 0; i < payload.Length; i++) Data[(int)((at + 8 + (ulong)i) % DataSize)] = payload[i];
            _reserved += ((ulong)payload.Length + 8 + 7) & ~7UL;
            ProducerPosition = _reserved;
            return at;
        }

        public void Commit(ulong at, uint flags = 0)
        {
            var span = Data.AsSpan((int)(at % DataSize));
            var len = BinaryPrimitives.ReadUInt32LittleEndian(span) & ~(BpfRingBufferReader.BusyBit | BpfRingBufferReader.DiscardBit);
            BinaryPrimitives.WriteUInt32LittleEndian(span, len | flags);
        }
    }

    private static byte[] Payload(int length, byte seed) => Enumerable.Range(0, length).Select(i => (byte)(seed + i)).ToArray();

    [Fact]
    public void Delivers_committed_records_with_exact_lengths_and_8_byte_alignment()
    {
        var ring = new SyntheticRingBuffer();
        ring.Reserve(Payload(5, 1), 0);
        ring.Reserve(Payload(13, 2), 0);
        var sink = new RecordingSink();

        Assert.Equal(2, ring.Reader().Drain(sink));

        Assert.Equal([Payload(5, 1), Payload(13, 2)], sink.Samples.Select(s => s.Payload));
        Assert.Equal(16UL + 24UL, ring.ConsumerPosition);
    }

    [Fact]
    public void Stops_at_a_busy_record_and_resumes_once_it_is_committed()
    {
        var ring = new SyntheticRingBuffer();
        ring.Reserve(Payload(8, 1), 0);
        var busy = ring.Reserve(Payload(8, 2), BpfRingBufferReader.BusyBit);
        ring.Reserve(Payload(8, 3), 0); // committed, but behind the busy one
        var reader = ring.Reader();
        var sink = new RecordingSink();

        Assert.Equal(1, reader.Drain(sink));
        Assert.Equal(busy, ring.ConsumerPosition);

        ring.Commit(busy);
        Assert.Equal(2, reader.Drain(sink));
        Assert.Equal([Payload(8, 1), Payload(8, 2), Payload(8, 3)], sink.Samples.Select(s => s.Payload));
    }

    [Fact]
    public void Skips_discarded_records_but_consumes_their_space()
    {
        var ring = new SyntheticRingBuffer();
        ring.Reserve(Payload(8, 1), BpfRingBufferReader.DiscardBit);
        ring.Reserve(Payload(8, 2), 0);
        var sink = new RecordingSink();

        Assert.Equal(1, ring.Reader().Drain(sink));
        Assert.Equal(Payload(8, 2), sink.Samples.Single().Payload);
        Assert.Equal(32UL, ring.ConsumerPosition);
    }

    [Fact]
    public void Stitches_a_payload_that_crosses_the_end_of_a_single_mapping()
    {
        var ring = new SyntheticRingBuffer(start: 3 * DataSize - 16);
        var payload = Payload(40, 9);
        ring.Reserve(payload, 0);
        var sink = new RecordingSink();

        Assert.Equal(1, ring.Reader().Drain(sink));
        Assert.Equal(payload, sink.Samples.Single().Payload);
    }
}
