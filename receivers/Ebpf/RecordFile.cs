using System.Buffers.Binary;
using OtelAi.Receivers.Ebpf.Native;

namespace OtelAi.Receivers.Ebpf;

/// <summary>
/// The recording format of <c>otelai ebpf record</c> (little-endian):
/// <code>
/// header (32 bytes): "OTAIEBPF" | u32 version = 1 | u32 reserved | s64 CLOCK_REALTIME − CLOCK_MONOTONIC (ns) | u64 reserved
/// entry:             u32 kind (1 sample, 2 lost) | u32 cpu | u64 CLOCK_MONOTONIC ns when read | u32 length | u32 reserved
///                    | payload (length bytes; for lost: u64 count) | zero padding to a multiple of 8
/// </code>
/// Payloads are the raw records exactly as the ring delivered them, so a replay decodes them like live data; the
/// header's clock offset converts their CLOCK_MONOTONIC timestamps to the wall-clock time of the recording.
/// </summary>
internal static class RecordFile
{
    public const uint KindSample = 1, KindLost = 2;
    public const int HeaderSize = 32, EntryHeaderSize = 24;
    public static ReadOnlySpan<byte> Magic => "OTAIEBPF"u8;
}

/// <summary>Writes consumed records to a recording.</summary>
internal sealed class RecordFileWriter : IRingRecordSink, IDisposable
{
    private readonly Stream _stream;
    private readonly byte[] _entry = new byte[RecordFile.EntryHeaderSize];

    public RecordFileWriter(Stream stream, long realtimeMinusMonotonicNs)
    {
        _stream = stream;
        Span<byte> header = stackalloc byte[RecordFile.HeaderSize];
        header.Clear();
        RecordFile.Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], 1);
        BinaryPrimitives.WriteInt64LittleEndian(header[16..], realtimeMinusMonotonicNs);
        _stream.Write(header);
    }

    public long Samples { get; private set; }

    public long Lost { get; private set; }

    public void OnSample(int cpu, ReadOnlySpan<byte> payload)
    {
        Write(RecordFile.KindSample, cpu, payload);
        Samples++;
    }

    public void OnLost(int cpu, ulong count)
    {
        Span<byte> payload = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(payload, count);
        Write(RecordFile.KindLost, cpu, payload);
        Lost += (long)count;
    }

    private void Write(uint kind, int cpu, ReadOnlySpan<byte> payload)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_entry, kind);
        BinaryPrimitives.WriteInt32LittleEndian(_entry.AsSpan(4), cpu);
        BinaryPrimitives.WriteInt64LittleEndian(_entry.AsSpan(8), LibC.ClockNanoseconds(LibC.ClockMonotonic));
        BinaryPrimitives.WriteInt32LittleEndian(_entry.AsSpan(16), payload.Length);
        BinaryPrimitives.WriteInt32LittleEndian(_entry.AsSpan(20), 0);
        _stream.Write(_entry);
        _stream.Write(payload);
        Span<byte> padding = stackalloc byte[8];
        padding.Clear();
        _stream.Write(padding[..((8 - payload.Length % 8) % 8)]);
    }

    public void Dispose() => _stream.Dispose();
}

/// <summary>Replays a recording as fast as the pipeline takes it.</summary>
internal sealed class ReplaySource : IRecordSource
{
    private const int EntriesPerPoll = 4096;
    private readonly Stream _stream;
    private readonly byte[] _entry = new byte[RecordFile.EntryHeaderSize];
    private byte[] _payload = new byte[256];

    public ReplaySource(string path)
    {
        _stream = new BufferedStream(File.OpenRead(path), 1 << 16);
        Span<byte> header = stackalloc byte[RecordFile.HeaderSize];
        if (_stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) < header.Length || !header[..8].SequenceEqual(RecordFile.Magic))
            throw new InvalidDataException($"{path} is not an otelai eBPF recording (no OTAIEBPF header)");
        var version = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        if (version != 1) throw new InvalidDataException($"{path}: recording version {version} is not supported (expected 1)");
        RealtimeMinusMonotonicNs = BinaryPrimitives.ReadInt64LittleEndian(header[16..]);
        Path = path;
    }

    public string Path { get; }

    public long RealtimeMinusMonotonicNs { get; }

    public bool Completed { get; private set; }

    public int Poll(IRingRecordSink sink, int timeoutMs)
    {
        var samples = 0;
        for (var i = 0; i < EntriesPerPoll && !Completed; i++)
        {
            var read = _stream.ReadAtLeast(_entry, _entry.Length, throwOnEndOfStream: false);
            if (read == 0)
            {
                Completed = true;
                break;
            }
            if (read < _entry.Length) throw new InvalidDataException($"{Path}: truncated entry header");
            var kind = BinaryPrimitives.ReadUInt32LittleEndian(_entry);
            var cpu = BinaryPrimitives.ReadInt32LittleEndian(_entry.AsSpan(4));
            var length = BinaryPrimitives.ReadInt32LittleEndian(_entry.AsSpan(16));
            if (length < 0 || length > 1 << 24) throw new InvalidDataException($"{Path}: entry length {length} is invalid");
            var padded = (length + 7) & ~7;
            if (_payload.Length < padded) _payload = new byte[padded];
            if (_stream.ReadAtLeast(_payload.AsSpan(0, padded), padded, throwOnEndOfStream: false) < padded)
                throw new InvalidDataException($"{Path}: truncated entry payload");
            if (kind == RecordFile.KindLost && length >= 8) sink.OnLost(cpu, BinaryPrimitives.ReadUInt64LittleEndian(_payload));
            else if (kind == RecordFile.KindSample)
            {
                sink.OnSample(cpu, _payload.AsSpan(0, length));
                samples++;
            }
        }
        return samples;
    }

    public void Dispose() => _stream.Dispose();
}
