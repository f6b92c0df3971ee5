using System.Diagnostics;

namespace OtelAi.Engine.SelfTelemetry;

/// <summary>otelcol's process metrics (otelcol_process_*), read when scraped.</summary>
public static class ProcessMetrics
{
    public static void Register(MetricRegistry registry)
    {
        DateTime startedUtc;
        using (var process = Process.GetCurrentProcess()) startedUtc = process.StartTime.ToUniversalTime();

        registry.Gauge("otelcol_process_uptime", "Uptime of the process in seconds.",
            () => (DateTime.UtcNow - startedUtc).TotalSeconds);
        registry.Gauge("otelcol_process_cpu_seconds", "Total CPU user and system time in seconds.",
            () => Environment.CpuUsage.TotalTime.TotalSeconds);
        registry.Gauge("otelcol_process_memory_rss", "Total physical memory (resident set size) in bytes.",
            () => Environment.WorkingSet);
        registry.Gauge("otelcol_process_runtime_heap_alloc_bytes", "Bytes of allocated managed heap objects.",
            () => GC.GetTotalMemory(forceFullCollection: false));
        registry.Gauge("otelcol_process_runtime_total_alloc_bytes", "Cumulative bytes allocated for managed heap objects.",
            () => GC.GetTotalAllocatedBytes());
        registry.Gauge("otelcol_process_runtime_total_sys_memory_bytes", "Total bytes of memory committed by the runtime's GC.",
            () => GC.GetGCMemoryInfo().TotalCommittedBytes);
    }
}
