using System.Diagnostics;
using System.Globalization;

namespace OtelAi.LoadGen;

/// <summary>
/// One load run: workers pace requests to the target rate (absolute schedule, so a slow response is caught up
/// rather than lowering the rate), count what was accepted and refused, and report figures once a second.
/// </summary>
public sealed class LoadRun(LoadOptions options, TextWriter output)
{
    private long _sentItems;
    private long _failedRequests;
    private readonly Dictionary<string, long> _failures = new();

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var requests = RequestFactory.Build(options);
        using var sender = new OtlpSender(options, requests);
        var sampler = options.WatchPid is { } pid ? new ProcessSampler(pid) : null;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stop.CancelAfter(options.Duration);

        var stopwatch = Stopwatch.StartNew();
        sampler?.Sample();
        var workers = Enumerable.Range(0, options.Workers).Select(w => Task.Run(() => WorkerAsync(sender, w, stop.Token))).ToArray();
        var lastItems = 0L;
        while (!stop.IsCancellationRequested)
        {
            try { await Task.Delay(TimeSpan.FromSeconds(1), stop.Token); } catch (OperationCanceledException) { }
            sampler?.Sample();
            var items = Interlocked.Read(ref _sentItems);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"t={stopwatch.Elapsed.TotalSeconds:F0}s sent={items} rate={items - lastItems}/s failed_requests={Interlocked.Read(ref _failedRequests)}"));
            lastItems = items;
        }
        await Task.WhenAll(workers);

        var elapsed = stopwatch.Elapsed.TotalSeconds;
        var total = Interlocked.Read(ref _sentItems);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"summary: signal={options.Signal} transport={options.Transport} items={total} seconds={elapsed:F1} items_per_second={total / elapsed:F0} failed_requests={_failedRequests}"));
        lock (_failures)
            foreach (var (reason, count) in _failures) output.WriteLine($"  failure {reason}: {count} requests");
        if (sampler is not null)
        {
            var (cpu, avgRss, maxRss) = sampler.Summary();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"engine pid={options.WatchPid}: cpu={cpu:F2}% of one core, rss avg={avgRss:F1} MiB max={maxRss:F1} MiB"));
        }
        return _failedRequests == 0 ? 0 : 1;
    }

    private async Task WorkerAsync(OtlpSender sender, int worker, CancellationToken cancellationToken)
    {
        // Each worker owns an equal share of the rate; requests go out on an absolute schedule.
        var interval = options.Rate > 0 ? TimeSpan.FromSeconds(options.ItemsPerRequest * options.Workers / options.Rate) : TimeSpan.Zero;
        var clock = Stopwatch.StartNew();
        for (var n = 0L; !cancellationToken.IsCancellationRequested; n++)
        {
            if (interval > TimeSpan.Zero)
            {
                var due = interval * n - clock.Elapsed;
                if (due > TimeSpan.Zero)
                {
                    try { await Task.Delay(due, cancellationToken); } catch (OperationCanceledException) { break; }
                }
            }

            string? failure;
            try { failure = await sender.SendAsync((int)(n * options.Workers + worker), cancellationToken); }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { break; }
            catch (HttpRequestException ex) { failure = ex.HttpRequestError.ToString(); }

            if (failure is null)
            {
                Interlocked.Add(ref _sentItems, options.ItemsPerRequest);
                continue;
            }
            Interlocked.Increment(ref _failedRequests);
            lock (_failures) _failures[failure] = _failures.GetValueOrDefault(failure) + 1;
        }
    }
}
