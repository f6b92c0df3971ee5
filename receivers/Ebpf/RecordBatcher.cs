using System.Buffers;
using System.Threading.Channels;
using OtelAi.Engine.SelfTelemetry;

namespace OtelAi.Receivers.Ebpf;

/// <summary>Raw records copied out of the rings into one pooled arena, handed from the poller to the converter.</summary>
internal sealed class RecordBatch
{
    private byte[] _arena = ArrayPool<byte>.Shared.Rent(1 << 16);
    private readonly List<(int Offset, int Length)> _records = [];
    private int _used;

    public int Count => _records.Count;

    public void Add(ReadOnlySpan<byte> payload)
    {
        if (_used + payload.Length > _arena.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_arena.Length * 2, _used + payload.Length));
            _arena.AsSpan(0, _used).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_arena);
            _arena = bigger;
        }
        payload.CopyTo(_arena.AsSpan(_used));
        _records.Add((_used, payload.Length));
        _used += payload.Length;
    }

    public ReadOnlySpan<byte> this[int index] => _arena.AsSpan(_records[index].Offset, _records[index].Length);

    public void Release()
    {
        ArrayPool<byte>.Shared.Return(_arena);
        _arena = [];
    }
}

/// <summary>
/// The poller's sink: batches samples for the converter and counts the kernel's LOST reports. When the converter
/// falls behind, the poller waits for channel space; meanwhile the kernel keeps running and reports what its full
/// rings could not take as lost, which we count — nothing is dropped silently.
/// </summary>
internal sealed class RecordBatcher(ChannelWriter<RecordBatch> output, int maxBatchSize, Counter lostEvents, Counter records) : IRingRecordSink
{
    private RecordBatch _current = new();

    public void OnSample(int cpu, ReadOnlySpan<byte> payload)
    {
        _current.Add(payload);
        records.Add(1);
        if (_current.Count >= maxBatchSize) Flush();
    }

    public void OnLost(int cpu, ulong count) => lostEvents.Add((long)count);

    /// <summary>Hands the records gathered so far to the converter (blocking the poller while the channel is full).</summary>
    public void Flush()
    {
        if (_current.Count == 0) return;
        var batch = _current;
        _current = new RecordBatch();
        if (!output.TryWrite(batch)) output.WriteAsync(batch).AsTask().GetAwaiter().GetResult();
    }
}
