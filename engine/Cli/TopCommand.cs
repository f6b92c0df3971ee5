using System.Globalization;
using System.Text;
using System.Text.Json;

namespace OtelAi.Cli;

/// <summary>
/// <c>otelai top</c>: the live page's numbers in a terminal, refreshed every second (as <c>vector top</c> shows
/// Vector's): every component with its rates in and out, totals, drops, failures, queue fill and status, the process's
/// CPU and memory, and the panels of components that describe themselves (the sampler, the anomaly connector).
/// </summary>
internal sealed class TopCommand : ICliCommand
{
    private static readonly HashSet<string> Valued = ["--endpoint", "--token", "--interval"];
    private static readonly HashSet<string> Switches = ["--once", "--insecure-skip-verify"];

    public string Name => "top";

    public string Summary => "live rates of a running collector's components in the terminal (its zpages extension): otelai top [--endpoint HOST:PORT] [--token T] [--once]";

    public bool TakesConfig => false;

    public async Task<int> RunAsync(IReadOnlyList<string> args, CliConsole console, CancellationToken cancellationToken)
    {
        if (LiveArguments.Parse(args, Valued, Switches, out var error) is not { } parsed)
        {
            console.Error.WriteLine(error);
            return 2;
        }
        var interval = TimeSpan.FromSeconds(1);
        if (parsed["--interval"] is { } text && !Engine.Config.Durations.TryParse(text, out interval))
        {
            console.Error.WriteLine($"--interval: \"{text}\" is not a duration such as 1s or 500ms");
            return 2;
        }
        using var client = LiveClient.Create(parsed["--endpoint"], parsed["--token"], parsed.Has("--insecure-skip-verify"), out error);
        if (client is null)
        {
            console.Error.WriteLine(error);
            return 2;
        }
        var once = parsed.Has("--once");
        try
        {
            using var graph = JsonDocument.Parse(await client.GetAsync("api/v1/graph", cancellationToken));
            // The first reading has no rates yet: a second one an interval later does.
            await client.GetAsync("api/v1/stats", cancellationToken);
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(interval, cancellationToken);
                using var stats = JsonDocument.Parse(await client.GetAsync("api/v1/stats", cancellationToken));
                var frame = Render(client.BaseAddress, graph.RootElement, stats.RootElement);
                // Home and clear below, rather than clear all: no flicker.
                console.Out.Write(once ? frame : "\u001b[H" + frame.Replace("\n", "\u001b[K\n") + "\u001b[J");
                await console.Out.FlushAsync(cancellationToken);
                if (once) return 0;
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex) when (ex is LiveApiException or HttpRequestException or JsonException)
        {
            console.Error.WriteLine($"otelai top: {client.BaseAddress}: {ex.Message}");
            return 1;
        }
        return 0;
    }

    internal static string Render(Uri endpoint, JsonElement graph, JsonElement stats)
    {
        var text = new StringBuilder();
        var process = stats.GetProperty("process");
        text.Append(CultureInfo.InvariantCulture,
            $"otelai top · {endpoint.Authority} · {stats.GetProperty("state").GetString()} · up {Duration(stats.GetProperty("uptime_seconds").GetDouble())} · " +
            $"CPU {process.GetProperty("cpu_percent").GetDouble():0.0}% · RSS {Bytes(process.GetProperty("rss_bytes").GetDouble())} · " +
            $"heap {Bytes(process.GetProperty("heap_bytes").GetDouble())} · GC pause {process.GetProperty("gc_pause_percent").GetDouble():0.00}%\n\n");
        var kinds = graph.GetProperty("nodes").EnumerateArray().ToDictionary(n => n.GetProperty("id").GetString()!, n => n);
        var rows = new List<string[]> { new[] { "COMPONENT", "PIPELINE", "IN/S", "OUT/S", "IN", "OUT", "DROPPED", "FAILED", "QUEUE", "LATENCY", "STATUS" } };
        foreach (var node in stats.GetProperty("nodes").EnumerateArray())
        {
            var id = node.GetProperty("id").GetString()!;
            var described = kinds.GetValueOrDefault(id);
            string Total(string name) => node.TryGetProperty(name, out var value) ? Count(value.GetDouble()) : "-";
            var failed = node.TryGetProperty("send_failed_total", out var sendFailed) && sendFailed.GetDouble() > 0 ? Count(sendFailed.GetDouble()) : Total("failed_total");
            var queue = node.TryGetProperty("queue_capacity", out var capacity) ? $"{node.GetProperty("queue_size").GetDouble()}/{capacity.GetDouble()}" : "-";
            rows.Add([
                described.ValueKind == JsonValueKind.Object ? described.GetProperty("component").GetString()! : id,
                described.ValueKind == JsonValueKind.Object && described.TryGetProperty("pipeline", out var pipeline) ? pipeline.GetString()! : "",
                Rate(node.GetProperty("in_rate").GetDouble()), Rate(node.GetProperty("out_rate").GetDouble()),
                Total("in_total"), Total("out_total"), Total("dropped_total"), failed, queue,
                node.TryGetProperty("latency_ms", out var latency) ? $"{latency.GetDouble().ToString("0.#", CultureInfo.InvariantCulture)}ms" : "-",
                node.GetProperty("status").GetString() + (node.TryGetProperty("status_message", out var message) ? $": {message.GetString()}" : ""),
            ]);
        }
        var widths = Enumerable.Range(0, rows[0].Length - 1).Select(c => rows.Max(r => r[c].Length)).ToArray();
        foreach (var row in rows)
        {
            for (var c = 0; c < widths.Length; c++)
                text.Append(c is >= 2 and <= 9 ? row[c].PadLeft(widths[c]) : row[c].PadRight(widths[c])).Append("  ");
            text.Append(row[^1]).Append('\n');
        }
        foreach (var panel in stats.GetProperty("panels").EnumerateArray())
        {
            text.Append('\n').Append(panel.GetProperty("title").GetString()).Append(" · ").Append(panel.GetProperty("component").GetString()).Append('\n');
            var fields = panel.GetProperty("fields").EnumerateArray().Select(f => $"{f.GetProperty("name").GetString()} {f.GetProperty("value").GetString()}");
            text.Append("  ").AppendJoin(" · ", fields).Append('\n');
            foreach (var table in panel.GetProperty("tables").EnumerateArray())
            {
                text.Append("  ").Append(table.GetProperty("title").GetString()).Append(": ");
                var columns = table.GetProperty("columns").EnumerateArray().Select(c => c.GetString()).ToList();
                text.AppendJoin("; ", table.GetProperty("rows").EnumerateArray().Select(r =>
                    string.Join(", ", r.EnumerateArray().Select((cell, i) => $"{columns[i]} {cell.GetString()}"))));
                text.Append('\n');
            }
        }
        return text.ToString();
    }

    private static string Rate(double perSecond) => perSecond switch
    {
        >= 1e6 => (perSecond / 1e6).ToString("0.0M", CultureInfo.InvariantCulture),
        >= 1e4 => (perSecond / 1e3).ToString("0k", CultureInfo.InvariantCulture),
        >= 1e3 => (perSecond / 1e3).ToString("0.0k", CultureInfo.InvariantCulture),
        _ => perSecond.ToString("0.0", CultureInfo.InvariantCulture),
    };

    private static string Count(double total) => total.ToString("0", CultureInfo.InvariantCulture);

    private static string Bytes(double bytes) => bytes switch
    {
        >= 1 << 30 => (bytes / (1 << 30)).ToString("0.0 'GiB'", CultureInfo.InvariantCulture),
        >= 1 << 20 => (bytes / (1 << 20)).ToString("0.0 'MiB'", CultureInfo.InvariantCulture),
        _ => (bytes / 1024).ToString("0 'KiB'", CultureInfo.InvariantCulture),
    };

    private static string Duration(double seconds)
    {
        var span = TimeSpan.FromSeconds(Math.Floor(seconds));
        return span.TotalHours >= 1 ? $"{(int)span.TotalHours}h{span.Minutes}m" : span.TotalMinutes >= 1 ? $"{span.Minutes}m{span.Seconds}s" : $"{span.Seconds}s";
    }
}
