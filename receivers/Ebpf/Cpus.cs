using System.Globalization;

namespace OtelAi.Receivers.Ebpf;

/// <summary>CPU lists from /sys/devices/system/cpu ("0-3,6").</summary>
internal static class Cpus
{
    public static IReadOnlyList<int> Online() => Parse(File.ReadAllText("/sys/devices/system/cpu/online"));

    /// <summary>Number of possible CPUs: the length of per-CPU map values.</summary>
    public static int PossibleCount() => Parse(File.ReadAllText("/sys/devices/system/cpu/possible")).Max() + 1;

    public static IReadOnlyList<int> Parse(string list)
    {
        var cpus = new List<int>();
        foreach (var part in list.Trim().Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var range = part.Split('-');
            var first = int.Parse(range[0], CultureInfo.InvariantCulture);
            var last = range.Length > 1 ? int.Parse(range[1], CultureInfo.InvariantCulture) : first;
            for (var c = first; c <= last; c++) cpus.Add(c);
        }
        return cpus;
    }
}
