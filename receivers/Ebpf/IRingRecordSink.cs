namespace OtelAi.Receivers.Ebpf;

/// <summary>
/// Receives what a ring reader consumes. The payload span is only valid during the call (it points into the ring or
/// into a reusable stitch buffer): copy what you keep.
/// </summary>
internal interface IRingRecordSink
{
    void OnSample(int cpu, ReadOnlySpan<byte> payload);

    /// <summary>The kernel reported <paramref name="count"/> records it could not write (ring full).</summary>
    void OnLost(int cpu, ulong count);
}
