using System.Globalization;

namespace OtelAi.Receivers.Ebpf;

/// <summary>Checks the effective capabilities (/proc/self/status CapEff) the receiver needs before touching the kernel.</summary>
internal static class Capabilities
{
    public const int SysAdmin = 21, Perfmon = 38, Bpf = 39;

    /// <summary>Null when the mask allows loading programs and opening perf events, else what is missing.</summary>
    public static string? Missing(ulong effective, bool needsPerfEvents)
    {
        bool Has(int cap) => (effective & (1UL << cap)) != 0;
        if (Has(SysAdmin)) return null;
        var missing = new List<string>();
        if (!Has(Bpf)) missing.Add("CAP_BPF");
        if (needsPerfEvents && !Has(Perfmon)) missing.Add("CAP_PERFMON");
        return missing.Count == 0 ? null : string.Join(" and ", missing) + " (or CAP_SYS_ADMIN)";
    }

    public static ulong Effective(string statusText = "")
    {
        var text = statusText.Length > 0 ? statusText : File.ReadAllText("/proc/self/status");
        foreach (var line in text.Split('\n'))
            if (line.StartsWith("CapEff:", StringComparison.Ordinal))
                return ulong.Parse(line["CapEff:".Length..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        return 0;
    }

    /// <summary>Throws a clear error naming the missing capabilities.</summary>
    public static void Require(string what, bool needsPerfEvents)
    {
        if (Missing(Effective(), needsPerfEvents) is { } missing)
            throw new InvalidOperationException($"the ebpf receiver needs {missing} to {what}; run otelai as root or grant the capability (e.g. setcap cap_bpf,cap_perfmon+ep)");
    }
}
