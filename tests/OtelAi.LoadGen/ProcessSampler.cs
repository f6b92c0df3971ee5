using System.Globalization;

namespace OtelAi.LoadGen;

/// <summary>
/// Samples another process's CPU time and resident memory from /proc once a second, so a load run reports the
/// engine's cost (CPU % of one core, RSS) without a profiler attached.
/// </summary>
public sealed class ProcessSampler
{
    private static readonly double TicksPerSecond = 100.0; // USER_HZ on Linux
    private readonly int _pid;
    private readonly List<(DateTime At, double CpuSeconds, long RssBytes)> _samples = [];

    public ProcessSampler(int pid) => _pid = pid;

    public void Sample()
    {
        var stat = File.ReadAllText($"/proc/{_pid}/stat");
        // Fields after the parenthesised command name: state is field 3; utime and stime are fields 14 and 15.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var cpu = (double.Parse(fields[11], CultureInfo.InvariantCulture) + double.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
        var rssPages = long.Parse(File.ReadAllText($"/proc/{_pid}/statm").Split(' ')[1], CultureInfo.InvariantCulture);
        _samples.Add((DateTime.UtcNow, cpu, rssPages * Environment.SystemPageSize));
    }

    /// <summary>Average CPU % of one core between the first and last sample, and average / peak RSS in MiB.</summary>
    public (double CpuPercent, double AvgRssMiB, double MaxRssMiB) Summary()
    {
        if (_samples.Count < 2) return (0, 0, 0);
        var first = _samples[0];
        var last = _samples[^1];
        var cpu = (last.CpuSeconds - first.CpuSeconds) / (last.At - first.At).TotalSeconds * 100;
        return (cpu, _samples.Average(s => s.RssBytes) / 1048576.0, _samples.Max(s => s.RssBytes) / 1048576.0);
    }
}
