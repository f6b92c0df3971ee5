using System.Runtime.InteropServices;
using OtelAi.LoadGen;

// otelai-loadgen: a telemetrygen-like load generator for OTLP endpoints, and a counting sink to send to.
//   otelai-loadgen traces|metrics|logs [--endpoint host:port] [--protocol grpc|http] [--rate ITEMS_PER_S]
//       [--duration 30s] [--workers N] [--batch ITEMS_PER_REQUEST] [--attributes N] [--attribute-type int|string]
//       [--gzip] [--watch-pid PID]
//   otelai-loadgen sink --grpc-endpoint host:port [--http-endpoint host:port]
//   otelai-loadgen ebpf [--pin /sys/fs/bpf/otelai_load] [--rate EVENTS_PER_S] [--duration 10s]
//       [--metrics-url http://127.0.0.1:8888/metrics] [--engine-config tests/OtelAi.LoadGen/ebpf-load.yaml]   (as root)
if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.Error.WriteLine("usage: otelai-loadgen traces|metrics|logs [options] | sink [options] | ebpf [options]  (see Program.cs header)");
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
