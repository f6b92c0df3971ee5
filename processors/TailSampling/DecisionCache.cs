namespace OtelAi.Processors.TailSampling;

/// <summary>A bounded set of decided trace ids: when full, the oldest id is forgotten. Guarded by the processor's lock.</summary>
internal sealed class DecisionCache(int capacity)
{
    private readonly HashSet<TraceKey> _ids = new(Math.Min(capacity, 1 << 16));
    private readonly Queue<TraceKey> _order = new();

    public bool Contains(TraceKey id) => _ids.Contains(id);

    public void Add(TraceKey id)
    {
        if (capacity <= 0 || !_ids.Add(id)) return;
        _order.Enqueue(id);
        if (_order.Count > capacity) _ids.Remove(_order.Dequeue());
    }
}
