using System.Runtime.InteropServices;
using OtelAi.LoadGen;

// otelai-loadgen: a telemetrygen-like load generator for OTLP endpoints, and a counting sink to send to
// (usage: LoadOptions.Usage, printed by --help).
if (args.Length == 0 || args[0] is "-h" or "--help")
{
    (args.Length == 0 ? Console.Error : Console.Out).Write(LoadOptions.Usage);
    return args.Length == 0 ? 2 : 0;
}

using var cancel = new CancellationTokenSource();
// SIGINT and SIGTERM end a run (or the sink) early, still printing its summary.
using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, StopGracefully);
using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, StopGracefully);
try
{
    if (args[0] == "sink") return await Sink.RunAsync(args[1..], Console.Out, cancel.Token);
    if (args[0] == "ebpf") return await new EbpfLoadRun(EbpfLoadOptions.Parse(args[1..]), Console.Out).RunAsync(cancel.Token);
    var options = LoadOptions.Parse(args[0], args[1..]);
    return await new LoadRun(options, Console.Out).RunAsync(cancel.Token);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine($"otelai-loadgen: {ex.Message}");
    return 2;
}

void StopGracefully(PosixSignalContext context)
{
    context.Cancel = true;
    cancel.Cancel();
}
