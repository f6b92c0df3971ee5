using System.Diagnostics;
using System.Globalization;
using OtelAi.TestSupport;

namespace OtelAi.LoadGen;

/// <summary>Options of <c>otelai-loadgen ebpf</c>.</summary>
public sealed record EbpfLoadOptions
{
    /// <summary>Pin path prefix: the perf event array is pinned at PREFIX_perf (what the engine's pinned_map names).</summary>
    public string PinPrefix { get; init; } = "/sys/fs/bpf/otelai_load";
    public long Rate { get; init; } = 250_000;
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>The engine's self-telemetry endpoint: the run waits for it, then reads records and lost events from it.</summary>
    public Uri MetricsUrl { get; init; } = new("http://127.0.0.1:8888/metrics");
    /// <summary>Config the load generator starts the engine with (after pinning), sampling its CPU and RSS.</summary>
    public string? EngineConfig { get; init; }

    public static EbpfLoadOptions Parse(IReadOnlyList<string> args)
    {
        var options = new EbpfLoadOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var (name, inlineValue) = LoadOptions.Split(args[i]);
            string Value() => inlineValue ?? (++i < args.Count ? args[i] : throw new ArgumentException($"{name} needs a value"));
            options = name switch
            {
                "--pin" => options with { PinPrefix = Value() },
                "--rate" => options with { Rate = LoadOptions.Positive(name, Value()) },
                "--duration" => options with { Duration = LoadOptions.ParseDuration(Value()) },
                "--metrics-url" => options with { MetricsUrl = new Uri(Value()) },
                "--engine-config" => options with { EngineConfig = Value() },
                _ => throw new ArgumentException($"ebpf: unknown option {name}"),
            };
        }
        return options;
    }
}

/// <summary>
/// eBPF load: pins a perf event array fed by a BPF program on getppid(), starts the engine reading it (or waits for
/// one started by hand), and once the engine serves its self-telemetry emits events at the given rate and reports
/// what the engine delivered and what the kernel reported lost, from the engine's own counters, with the engine's
/// CPU and RSS when it started it.
/// </summary>
public sealed class EbpfLoadRun(EbpfLoadOptions options, TextWriter output)
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        foreach (var stale in new[] { options.PinPrefix + "_perf", options.PinPrefix + "_ring" }.Where(File.Exists))
        {
            output.WriteLine($"removing {stale}, left pinned by an earlier run");
            File.Delete(stale);
        }
        using var producer = new EbpfEventProducer(options.PinPrefix);
        output.WriteLine($"pinned {producer.PerfMap} (perf event array of 32-byte events); waiting for the engine at {options.MetricsUrl}");
        using var engine = options.EngineConfig is { } config ? OtelaiProcess.Start("--config", config) : null;
        var start = await WaitForEngineAsync(engine, cancellationToken);
        var sampler = engine is null ? null : new ProcessSampler(engine.Id);
        sampler?.Sample();

        var clock = Stopwatch.StartNew();
        long produced = 0;
        for (var second = 1; clock.Elapsed < options.Duration && !cancellationToken.IsCancellationRequested; second++)
        {
            // One second's worth per command; the producer paces within it on an absolute schedule.
            var chunk = (long)Math.Min(options.Rate, options.Rate * (options.Duration - clock.Elapsed).TotalSeconds);
            await Task.Run(() => producer.Generate(chunk, perSecond: options.Rate), CancellationToken.None);
            produced += chunk;
            sampler?.Sample();
            var now = await ReadAsync(cancellationToken);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"t={second}s produced={produced} delivered={now.Records - start.Records} lost={now.Lost - start.Lost}"));
        }
        var offeredSeconds = clock.Elapsed.TotalSeconds;

        // LOST records are written only when ring space frees up: a few more events flush them out.
        var end = await ReadAsync(cancellationToken);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (end.Records + end.Lost - start.Records - start.Lost < produced && DateTime.UtcNow < deadline)
        {
            producer.Generate(10);
            produced += 10;
            await Task.Delay(100, cancellationToken);
            end = await ReadAsync(cancellationToken);
        }
        sampler?.Sample();
        var delivered = end.Records - start.Records;
        var lost = end.Lost - start.Lost;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"summary: offered={produced} in {offeredSeconds:F1} s ({produced / offeredSeconds:F0} events/s) delivered={delivered} lost={lost} ({100.0 * lost / produced:F2} %) unaccounted={produced - delivered - lost}"));
        if (sampler is not null)
        {
            var (cpu, avgRss, maxRss) = sampler.Summary();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"engine pid={engine!.Id}: cpu={cpu:F2}% of one core, rss avg={avgRss:F1} MiB max={maxRss:F1} MiB"));
            engine.Signal("TERM");
            await engine.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }
        return delivered + lost == produced ? 0 : 1;
    }

    private async Task<(double Records, double Lost)> WaitForEngineAsync(OtelaiProcess? engine, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (engine?.HasExited == true) throw new InvalidOperationException($"the engine exited before serving {options.MetricsUrl}:\n{engine.Output}");
            try
            {
                var counters = await ReadAsync(cancellationToken);
                if (!double.IsNaN(counters.Records)) return counters;
            }
            catch (HttpRequestException)
            {
                // not up yet
            }
            await Task.Delay(500, cancellationToken);
        }
    }

    /// <summary>The engine's ebpf record and lost-event counters (summed over receivers); NaN before it has any.</summary>
    private async Task<(double Records, double Lost)> ReadAsync(CancellationToken cancellationToken)
    {
        var text = await Http.GetStringAsync(options.MetricsUrl, cancellationToken);
        return (Sum(text, "otelai_receiver_ebpf_records_total"), Sum(text, "otelai_receiver_ebpf_lost_events_total"));
    }

    private static double Sum(string exposition, string name)
    {
        var total = double.NaN;
        foreach (var line in exposition.AsSpan().EnumerateLines())
        {
            if (!line.StartsWith(name) || line.Length == name.Length || line[name.Length] is not ('{' or ' ')) continue;
            var value = double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            total = double.IsNaN(total) ? value : total + value;
        }
        return total;
    }
}
