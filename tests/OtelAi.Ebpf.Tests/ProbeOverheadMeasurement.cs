using OtelAi.Receivers.Ebpf;
using OtelAi.TestSupport;
using Xunit.Abstractions;

namespace OtelAi.Ebpf.Tests;

/// <summary>
/// What the http_requests probe adds to a traced process's syscalls: a tight loop of 1-byte write(2) calls to
/// /dev/null without the probe, with the probe loaded for other processes (filter miss), and with the process
/// selected (enter + exit handlers run, no HTTP connection matches). Prints the figures; asserts only that writes
/// which are not HTTP produce no spans.
/// </summary>
public sealed class ProbeOverheadMeasurement(ITestOutputHelper output)
{
    private const int Calls = 500_000;

    private static double BestNanosecondsPerCall(EbpfEventProducer producer) =>
        Enumerable.Range(0, 3).Min(_ => producer.WriteLoop(Calls).TotalNanoseconds / Calls);

    [Fact]
    public async Task Measures_the_per_syscall_cost_of_the_probe()
    {
        using var producer = new EbpfEventProducer();
        var baseline = BestNanosecondsPerCall(producer);

        double untraced;
        await using (var other = new ReceiverUnderTest(new EbpfReceiverConfig { Program = EbpfReceiverConfig.HttpRequestsProgram, Pids = [1] }))
        {
            await other.StartAsync();
            untraced = BestNanosecondsPerCall(producer);
        }

        double traced;
        await using (var selected = new ReceiverUnderTest(new EbpfReceiverConfig { Program = EbpfReceiverConfig.HttpRequestsProgram, Pids = [producer.Pid] }))
        {
            await selected.StartAsync();
            traced = BestNanosecondsPerCall(producer);
            Assert.Empty(selected.Spans());
        }

        output.WriteLine($"write(2) of 1 byte to /dev/null, best of 3 × {Calls:N0} calls: no probe {baseline:F0} ns/call; " +
            $"probe loaded, process not selected {untraced:F0} ns/call (+{untraced - baseline:F0}); process selected {traced:F0} ns/call (+{traced - baseline:F0})");
    }
}
