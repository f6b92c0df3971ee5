using Microsoft.Extensions.Logging.Abstractions;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Receivers.Ebpf;
using OtelAi.Receivers.Ebpf.Native;

namespace OtelAi.Cli;

/// <summary>
/// <c>otelai ebpf record --config FILE [--set k=v] [--receiver ebpf/NAME] --output FILE [--duration 10s]</c>:
/// records the raw stream of an ebpf receiver of the config (see <see cref="EbpfRecordCommand"/>).
/// </summary>
internal sealed class EbpfCommand : ICliCommand
{
    public string Name => "ebpf";

    public string Summary => "ebpf record --config FILE --output FILE [--duration 10s] [--receiver ebpf/NAME]: record an eBPF stream for replay";

    public async Task<int> RunAsync(IReadOnlyList<string> args, CliConsole console, CancellationToken cancellationToken)
    {
        if (args.Count == 0 || args[0] != "record")
        {
            console.Error.WriteLine("usage: otelai " + Summary);
            return 2;
        }
        string? output = null, receiver = null, duration = null;
        var configArgs = new List<string>();
        for (var i = 1; i < args.Count; i++)
        {
            string? Value() => i + 1 < args.Count ? args[++i] : null;
            switch (args[i])
            {
                case "--output" or "-o": output = Value(); break;
                case "--receiver": receiver = Value(); break;
                case "--duration": duration = Value(); break;
                default: configArgs.Add(args[i]); break;
            }
        }
        try
        {
            if (output is null) throw new ArgumentException("--output FILE is required");
            var registry = BuiltinComponents.CreateRegistry();
            var receivers = ConfigArguments.Parse(configArgs).Load(registry).Config.Receivers
                .Where(r => r.Value is EbpfReceiverConfig && (receiver is null || r.Key.ToString() == receiver)).ToList();
            if (receivers.Count != 1)
                throw new ArgumentException(receivers.Count == 0 ? $"the config has no ebpf receiver{(receiver is null ? "" : $" named {receiver}")}"
                    : "the config has several ebpf receivers: choose one with --receiver");
            var result = await EbpfRecordCommand.RecordAsync((EbpfReceiverConfig)receivers[0].Value, output,
                duration is null ? TimeSpan.FromSeconds(10) : EbpfRecordCommand.ParseDuration(duration), NullLogger.Instance, cancellationToken);
            console.Out.WriteLine($"recorded {result.Samples} records ({result.Lost} lost) from {result.Source} to {output}");
            return 0;
        }
        catch (ConfigException ex)
        {
            foreach (var issue in ex.Issues) console.Error.WriteLine(issue);
            return 1;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or IOException or NativeCallException)
        {
            console.Error.WriteLine(ex.Message);
            return 1;
        }
    }
}
