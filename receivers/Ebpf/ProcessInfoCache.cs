using System.Text;
using System.Text.RegularExpressions;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp;

namespace OtelAi.Receivers.Ebpf;

/// <summary>What /proc tells about a traced process, as resource attributes (and the served model, if any).</summary>
internal sealed record ProcessInfo(int Pid, string? ExecutableName, string? CommandLine, string? ContainerId, string? ServiceName, string? Model)
{
    public void AddResourceAttributes(Google.Protobuf.Collections.RepeatedField<KeyValue> attributes)
    {
        attributes.Upsert("service.name", Attributes.String(ServiceName ?? (ExecutableName is null ? "unknown_service" : "unknown_service:" + ExecutableName)));
        attributes.Upsert("process.pid", new AnyValue { IntValue = Pid });
        if (ExecutableName is not null) attributes.Upsert("process.executable.name", Attributes.String(ExecutableName));
        if (CommandLine is not null) attributes.Upsert("process.command_line", Attributes.String(CommandLine));
        if (ContainerId is not null) attributes.Upsert("container.id", Attributes.String(ContainerId));
    }
}

/// <summary>
/// Per-pid enrichment read from /proc/&lt;pid&gt;/{comm,cmdline,cgroup,environ}, cached with a bounded size (the oldest
/// entry goes first). Used by the one thread that converts records, so it takes no lock.
/// </summary>
internal sealed partial class ProcessInfoCache(int capacity, string procRoot = "/proc")
{
    private readonly Dictionary<int, LinkedListNode<ProcessInfo>> _byPid = [];
    private readonly LinkedList<ProcessInfo> _order = [];

    [GeneratedRegex(@"[0-9a-f]{64}")]
    private static partial Regex ContainerIdPattern();

    public ProcessInfo Get(int pid)
    {
        if (_byPid.TryGetValue(pid, out var node)) return node.Value;
        var info = Read(pid);
        if (_byPid.Count >= capacity)
        {
            _byPid.Remove(_order.First!.Value.Pid);
            _order.RemoveFirst();
        }
        _byPid[pid] = _order.AddLast(info);
        return info;
    }

    private ProcessInfo Read(int pid)
    {
        var dir = Path.Combine(procRoot, pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var arguments = ReadNulSeparated(Path.Combine(dir, "cmdline"));
        var comm = ReadText(Path.Combine(dir, "comm"))?.TrimEnd('\n');
        var executable = arguments.Count > 0 && arguments[0].Length > 0 ? Path.GetFileName(arguments[0]) : comm;
        var cgroup = ReadText(Path.Combine(dir, "cgroup"));
        var containerId = cgroup is null ? null : ContainerIdPattern().Matches(cgroup).LastOrDefault()?.Value;
        string? serviceName = null;
        foreach (var variable in ReadNulSeparated(Path.Combine(dir, "environ")))
            if (variable.StartsWith("OTEL_SERVICE_NAME=", StringComparison.Ordinal) && variable.Length > "OTEL_SERVICE_NAME=".Length)
                serviceName = variable["OTEL_SERVICE_NAME=".Length..];
        return new ProcessInfo(pid, executable, arguments.Count > 0 ? string.Join(' ', arguments) : null, containerId, serviceName, ModelFrom(arguments));
    }

    /// <summary>The value of --model / --model-id (as "--flag value" or "--flag=value"), the usual inference-server flags.</summary>
    internal static string? ModelFrom(IReadOnlyList<string> arguments)
    {
        for (var i = 0; i < arguments.Count; i++)
        {
            foreach (var flag in (ReadOnlySpan<string>)["--model", "--model-id"])
            {
                if (arguments[i] == flag && i + 1 < arguments.Count) return arguments[i + 1];
                if (arguments[i].StartsWith(flag + "=", StringComparison.Ordinal)) return arguments[i][(flag.Length + 1)..];
            }
        }
        return null;
    }

    private static string? ReadText(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // the process exited, or /proc hides it: enrich with what we have
        }
    }

    private static List<string> ReadNulSeparated(string path)
    {
        try
        {
            var bytes = File.ReadAllBytes(path);
            return Encoding.UTF8.GetString(bytes).Split('\0', StringSplitOptions.RemoveEmptyEntries).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
