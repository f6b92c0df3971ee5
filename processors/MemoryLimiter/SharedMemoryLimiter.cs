using Microsoft.Extensions.Logging;

namespace OtelAi.Processors.MemoryLimiter;

/// <summary>
/// The check loop shared by every pipeline that uses one memory_limiter id: measures on each tick, sets the
/// refuse flag above the soft limit and forces a collection (rate-limited) when above a limit, as otelcol does.
/// The per-item path only reads one volatile flag.
/// </summary>
public sealed class SharedMemoryLimiter
{
    private const long Mib = 1024 * 1024;

    private readonly MemoryLimiterConfig _config;
    private readonly IMemoryProbe _probe;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _lifecycle = new();
    private int _users;
    private CancellationTokenSource? _stop;
    private Task? _loop;
    private long _lastGcTimestamp;
    private TimeSpan _lastGcDuration;

    /// <summary>
    /// Forced collections take at most this share of the time, whatever min_gc_interval_* allow: with the hard-limit
    /// interval at otelcol's default 0, back-to-back blocking collections of a large heap that free nothing (the data
    /// is live, waiting to be exported) would leave no time for the pipeline to drain.
    /// </summary>
    private const int GcTimeShareDivisor = 10;
    private volatile bool _mustRefuse;

    public SharedMemoryLimiter(MemoryLimiterConfig config, IMemoryProbe probe, ILogger logger, TimeProvider? time = null, long? totalMemoryBytes = null)
    {
        _config = config;
        _probe = probe;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        if (config.LimitMib > 0)
        {
            HardLimitBytes = config.LimitMib * Mib;
            var spike = config.SpikeLimitMib * Mib;
            SpikeBytes = spike == 0 ? HardLimitBytes / 5 : spike;
        }
        else
        {
            var total = totalMemoryBytes ?? TotalMemory.Read();
            HardLimitBytes = total * config.LimitPercentage / 100;
            var spike = total * config.SpikeLimitPercentage / 100;
            SpikeBytes = spike == 0 ? HardLimitBytes / 5 : spike;
            _logger.LogInformation("memory_limiter: using percentage limits of {TotalMib} MiB total memory", total / Mib);
        }
        _lastGcTimestamp = _time.GetTimestamp();
        _logger.LogInformation("memory_limiter: limit {LimitMib} MiB, spike {SpikeMib} MiB, check interval {Interval}",
            HardLimitBytes / Mib, SpikeBytes / Mib, config.CheckInterval);
    }

    public long HardLimitBytes { get; }

    public long SpikeBytes { get; }

    public long SoftLimitBytes => HardLimitBytes - SpikeBytes;

    /// <summary>True while memory use is above the soft limit.</summary>
    public bool MustRefuse => _mustRefuse;

    /// <summary>Raised when refusing starts (with why) or ends (null), from the check loop.</summary>
    public event Action<string?>? RefusalChanged;

    /// <summary>Memory use at the last check, for logs and tests.</summary>
    public long LastUsedBytes { get; private set; }

    public int ForcedCollections { get; private set; }

    /// <summary>Starts the check loop for the first user; later users share it.</summary>
    public void Acquire()
    {
        lock (_lifecycle)
        {
            if (_users++ > 0) return;
            _stop = new CancellationTokenSource();
            _loop = RunAsync(_stop.Token);
        }
    }

    /// <summary>Stops the loop when the last user is gone.</summary>
    public async Task ReleaseAsync()
    {
        Task? loop;
        lock (_lifecycle)
        {
            if (_users == 0 || --_users > 0) return;
            _stop!.Cancel();
            loop = _loop;
        }
        if (loop is not null) await loop;
        _stop!.Dispose();
    }

    private async Task RunAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(_config.CheckInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stop)) CheckMemLimits();
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested) { }
    }

    /// <summary>One measurement: otelcol's CheckMemLimits.</summary>
    public void CheckMemLimits()
    {
        var used = _probe.UsedBytes();
        LastUsedBytes = used;
        var aboveSoft = used >= SoftLimitBytes;
        if (!aboveSoft)
        {
            if (_mustRefuse)
            {
                _logger.LogInformation("memory_limiter: memory usage back within limits ({UsedMib} MiB); resuming normal operation", used / Mib);
                _mustRefuse = false;
                RefusalChanged?.Invoke(null);
            }
            return;
        }

        var aboveHard = used >= HardLimitBytes;
        var minInterval = aboveHard ? _config.MinGcIntervalWhenHardLimited : _config.MinGcIntervalWhenSoftLimited;
        var sinceLastGc = _time.GetElapsedTime(_lastGcTimestamp);
        if (sinceLastGc > minInterval && sinceLastGc >= _lastGcDuration * (GcTimeShareDivisor - 1))
        {
            if (aboveHard) _logger.LogWarning("memory_limiter: memory usage {UsedMib} MiB is above the hard limit; forcing a GC", used / Mib);
            else _logger.LogInformation("memory_limiter: memory usage {UsedMib} MiB is above the soft limit; forcing a GC", used / Mib);
            var started = _time.GetTimestamp();
            _probe.Collect();
            ForcedCollections++;
            _lastGcTimestamp = _time.GetTimestamp();
            _lastGcDuration = _time.GetElapsedTime(started, _lastGcTimestamp);
            used = _probe.UsedBytes();
            LastUsedBytes = used;
            _logger.LogInformation("memory_limiter: memory usage after GC {UsedMib} MiB", used / Mib);
            aboveSoft = used >= SoftLimitBytes;
        }

        if (aboveSoft == _mustRefuse) return;
        _mustRefuse = aboveSoft;
        if (aboveSoft)
        {
            _logger.LogWarning("memory_limiter: memory usage {UsedMib} MiB is above the soft limit {SoftMib} MiB; refusing data", used / Mib, SoftLimitBytes / Mib);
            RefusalChanged?.Invoke($"refusing data: memory usage {used / Mib} MiB is above the soft limit {SoftLimitBytes / Mib} MiB");
        }
        else
        {
            RefusalChanged?.Invoke(null);
        }
    }
}
