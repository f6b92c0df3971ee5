using System.Runtime.InteropServices;
using OtelAi.Engine;
using OtelAi.Engine.Config;

namespace OtelAi.Cli;

/// <summary>
/// <c>otelai --config ...</c>: runs the collector until SIGINT/SIGTERM, then drains. Exit codes: 0 stopped with
/// nothing dropped, 1 a config, start or shutdown error (or a fatal error while running), 2 a usage error, 3 stopped
/// but data was dropped while draining (the budget ran out with data that no persistent queue kept).
/// </summary>
internal sealed class RunCommand : ICliCommand
{
    /// <summary>The exit code of a stop that dropped data while draining.</summary>
    public const int DataDropped = 3;

    public string Name => "run";

    public string Summary => "run the collector (the default: otelai --config FILE ...)";

    public async Task<int> RunAsync(IReadOnlyList<string> args, CliConsole console, CancellationToken cancellationToken)
    {
        var registry = BuiltinComponents.CreateRegistry();
        Collector collector;
        try
        {
            var arguments = ConfigArguments.Parse(args);
            collector = Collector.FromLoaded(arguments.Load(registry), registry, new CollectorOptions { ShutdownTimeout = arguments.ShutdownTimeout });
        }
        catch (ArgumentException ex)
        {
            console.Error.WriteLine(ex.Message);
            return 2;
        }
        catch (ConfigException ex)
        {
            foreach (var issue in ex.Issues) console.Error.WriteLine(issue);
            return 1;
        }
        catch (ComponentCreateException ex)
        {
            console.Error.WriteLine($"error: {ex.Message}");
            return 1;
        }

        var stopRequested = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // A signal during start-up aborts the start (a component may be waiting on something that never comes).
        using var abortStart = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        void RequestStop(string reason)
        {
            if (!stopRequested.TrySetResult()) return;
            collector.LogStopRequest(reason);
            abortStart.Cancel();
        }
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true; // we exit ourselves once the pipelines have drained
            RequestStop(context.Signal.ToString());
        }
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var cancelled = cancellationToken.Register(() => RequestStop("a stop request"));

        try
        {
            await collector.StartAsync(abortStart.Token);
        }
        catch (Exception ex) when (ex is ComponentStartException or OperationCanceledException)
        {
            if (stopRequested.Task.IsCompleted) return 0; // asked to stop while starting: what started was shut down
            console.Error.WriteLine($"error: {ex.Message}");
            return 1;
        }
        await Task.WhenAny(stopRequested.Task, collector.Completion);
        try
        {
            await collector.StopAsync(CancellationToken.None);
        }
        catch (AggregateException ex)
        {
            console.Error.WriteLine($"error: {ex.Message}");
            return 1;
        }
        if (collector.FatalError is { } fatal)
        {
            console.Error.WriteLine($"error: collector stopped after a fatal error: {fatal.Message}");
            return 1;
        }
        return collector.LastShutdown is { Dropped: > 0 } ? DataDropped : 0;
    }
}
