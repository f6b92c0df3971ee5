using System.Diagnostics;

namespace OtelAi.Engine.SelfTelemetry;

/// <summary>otelcol's process metrics (otelcol_process_*), read when scraped.</summary>
public static class ProcessMetrics
{
    private static readonly SelfMetric Uptime = SelfMetric.Gauge("otelcol_process_uptime", "Uptime of the process in seconds.");
    private static readonly SelfMetric CpuSeconds = SelfMetric.Gauge("otelcol_process_cpu_seconds", "Total CPU user and system time in seconds.");
    private static readonly SelfMetric MemoryRss = SelfMetric.Gauge("otelcol_process_memory_rss", "Total physical memory (resident set size) in bytes.");
    private static readonly SelfMetric HeapAlloc = SelfMetric.Gauge("otelcol_process_runtime_heap_alloc_bytes", "Bytes of allocated managed heap objects.");
    private static readonly SelfMetric TotalAlloc = SelfMetric.Gauge("otelcol_process_runtime_total_alloc_bytes", "Cumulative bytes allocated for managed heap objects.");
    private static readonly SelfMetric TotalSysMemory = SelfMetric.Gauge("otelcol_process_runtime_total_sys_memory_bytes", "Total bytes of memory committed by the runtime's GC.");

    /// <summary>The process metrics, emitted once per collector whatever its components.</summary>
    public static IReadOnlyList<SelfMetric> Declared { get; } = [Uptime, CpuSeconds, MemoryRss, HeapAlloc, TotalAlloc, TotalSysMemory];

    public static void Register(MetricRegistry registry)
    {
        DateTime startedUtc;
        using (var process = Process.GetCurrentProcess()) startedUtc = process.StartTime.ToUniversalTime();

        registry.Gauge(Uptime,
            () => (DateTime.UtcNow - startedUtc).TotalSeconds);
        registry.Gauge(CpuSeconds,
            () => Environment.CpuUsage.TotalTime.TotalSeconds);
        registry.Gauge(MemoryRss,
            () => Environment.WorkingSet);
        registry.Gauge(HeapAlloc,
            () => GC.GetTotalMemory(forceFullCollection: false));
        registry.Gauge(TotalAlloc,
            () => GC.GetTotalAllocatedBytes());
        registry.Gauge(TotalSysMemory,
            () => GC.GetGCMemoryInfo().TotalCommittedBytes);
    }
}
