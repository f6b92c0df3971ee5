using OtelAi.Receivers.Ebpf;

namespace OtelAi.Ebpf.Tests;

/// <summary>Keeps copies of what a ring reader delivers.</summary>
internal sealed class RecordingSink : IRingRecordSink
{
    public List<(int Cpu, byte[] Payload)> Samples { get; } = [];

    public ulong Lost { get; private set; }

    public void OnSample(int cpu, ReadOnlySpan<byte> payload) => Samples.Add((cpu, payload.ToArray()));

    public void OnLost(int cpu, ulong count) => Lost += count;
}
