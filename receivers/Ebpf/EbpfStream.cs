using Microsoft.Extensions.Logging;
using OtelAi.Receivers.Ebpf.Native;

namespace OtelAi.Receivers.Ebpf;

/// <summary>
/// The opened source of an ebpf receiver config: the record source, the probe that feeds it (bundled program), the
/// BPF-side output failure count when there is one, and the clock that converts its timestamps.
/// </summary>
internal sealed class EbpfStream : IDisposable
{
    private readonly HttpRequestsProbe? _probe;
    private readonly int _pinnedMapFd = -1;
    private readonly int _possibleCpus;

    private EbpfStream(IRecordSource source, MonotonicClock clock, HttpRequestsProbe? probe, int pinnedMapFd, string description)
    {
        Source = source;
        Clock = clock;
        _probe = probe;
        _pinnedMapFd = pinnedMapFd;
        Description = description;
        _possibleCpus = probe is null ? 0 : Cpus.PossibleCount();
    }

    public IRecordSource Source { get; }

    public MonotonicClock Clock { get; }

    public string Description { get; }

    /// <summary>Outputs the BPF program failed to write (ring full), counted in its map; null when unknown.</summary>
    public ulong? OutputFailures => _probe is null ? null : BpfSyscalls.SumPerCpuCounter(_probe.OutputFailuresMapFd, 0, _possibleCpus);

    public void RescanProcesses() => _probe?.RescanComms();

    public static EbpfStream Open(EbpfReceiverConfig config, ILogger logger)
    {
        if (config.Replay is not null)
        {
            var replay = new ReplaySource(config.Replay);
            return new EbpfStream(replay, new MonotonicClock(replay.RealtimeMinusMonotonicNs), null, -1, $"replay of {config.Replay}");
        }
        if (config.PinnedMap is not null)
        {
            Capabilities.Require($"read the pinned map {config.PinnedMap}", needsPerfEvents: true);
            var fd = BpfSyscalls.ObjectGet(config.PinnedMap);
            try
            {
                var info = BpfSyscalls.GetMapInfo(fd);
                IRecordSource source = info.Type switch
                {
                    BpfSyscalls.MapTypePerfEventArray => new PerfEventArraySource(fd, Cpus.Online().Where(c => c < info.MaxEntries).ToList(), config.PerfBufferPages, config.WakeupWatermark),
                    BpfSyscalls.MapTypeRingBuf => new RingBufferSource(fd, info.MaxEntries),
                    _ => throw new InvalidOperationException($"{config.PinnedMap} is a BPF map of type {info.Type} ({info.NameString}); expected a perf event array (4) or a ring buffer (27)"),
                };
                var kind = info.Type == BpfSyscalls.MapTypeRingBuf ? "ring buffer" : "perf event array";
                return new EbpfStream(source, new MonotonicClock(), null, fd, $"pinned {kind} {config.PinnedMap} ({info.NameString})");
            }
            catch
            {
                LibC.Close(fd);
                throw;
            }
        }
        Capabilities.Require("load the bundled http_requests program", needsPerfEvents: true);
        var probe = new HttpRequestsProbe(config, logger);
        try
        {
            var perf = new PerfEventArraySource(probe.EventsMapFd, Cpus.Online(), config.PerfBufferPages, config.WakeupWatermark);
            return new EbpfStream(perf, new MonotonicClock(), probe, -1, "bundled program http_requests");
        }
        catch
        {
            probe.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Source.Dispose();
        _probe?.Dispose();
        if (_pinnedMapFd >= 0) LibC.Close(_pinnedMapFd);
    }
}
