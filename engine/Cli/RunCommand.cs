using System.Runtime.InteropServices;
using OtelAi.Engine;
using OtelAi.Engine.Config;

namespace OtelAi.Cli;

/// <summary><c>otelai --config ...</c>: runs the collector until SIGINT/SIGTERM, then drains and exits 0.</summary>
internal sealed class RunCommand : ICliCommand
{
    public string Name => "run";

    public string Summary => "run the collector (the default: otelai --config FILE ...)";

    public async Task<int> RunAsync(IReadOnlyList<string> args, CliConsole console, CancellationToken cancellationToken)
    {
        var registry = BuiltinComponents.CreateRegistry();
        Collector collector;
        try
        {
            collector = Collector.FromLoaded(ConfigArguments.Parse(args).Load(registry), registry);
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
        void RequestStop()
        {
            stopRequested.TrySetResult();
            abortStart.Cancel();
        }
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true; // we exit ourselves once the pipelines have drained
            RequestStop();
        }
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var cancelled = cancellationToken.Register(RequestStop);

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
        return 0;
    }
}
