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
/// The poller's sink: batches samples for the converter and counts the kernel's LOST reports. A batch leaves when it
/// is full or when its first record has waited <paramref name="maxDelay"/>, not after every wakeup: with one wakeup
/// per record (wakeup_watermark 0) that would make one pipeline request per record. When the converter falls behind,
/// the poller waits for channel space; meanwhile the kernel keeps running and reports what its full rings could not
/// take as lost, which we count — nothing is dropped silently.
/// </summary>
internal sealed class RecordBatcher(ChannelWriter<RecordBatch> output, int maxBatchSize, TimeSpan maxDelay, Counter lostEvents, Counter records) : IRingRecordSink
{
    private readonly long _maxDelayMs = (long)Math.Max(1, maxDelay.TotalMilliseconds);
    private RecordBatch _current = new();
    private long _firstRecordAtMs;

    public void OnSample(int cpu, ReadOnlySpan<byte> payload)
    {
        if (_current.Count == 0) _firstRecordAtMs = Environment.TickCount64;
        _current.Add(payload);
        if (_current.Count >= maxBatchSize) Flush();
    }

    public void OnLost(int cpu, ulong count) => lostEvents.Add((long)count);

    /// <summary>How long the poller may wait for the kernel before the pending batch is due (its timeout when idle).</summary>
    public int WaitBudgetMs(int idleTimeoutMs) =>
        _current.Count == 0 ? idleTimeoutMs : (int)Math.Clamp(_firstRecordAtMs + _maxDelayMs - Environment.TickCount64, 0, idleTimeoutMs);

    /// <summary>Flushes the pending batch if it has waited long enough.</summary>
    public void FlushIfDue()
    {
        if (_current.Count > 0 && Environment.TickCount64 - _firstRecordAtMs >= _maxDelayMs) Flush();
    }

    /// <summary>Hands the records gathered so far to the converter (blocking the poller while the channel is full).</summary>
    public void Flush()
    {
        if (_current.Count == 0) return;
        var batch = _current;
        _current = new RecordBatch();
        records.Add(batch.Count);
        if (!output.TryWrite(batch)) output.WriteAsync(batch).AsTask().GetAwaiter().GetResult();
    }
}
