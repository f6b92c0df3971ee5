using Microsoft.Extensions.Logging;
using OtelAi.Engine.Config;

namespace OtelAi.Receivers.Ebpf;

/// <summary>
/// <c>otelai ebpf record</c>: reads the source of an ebpf receiver config (bundled program or pinned map) for a while
/// and writes the raw records to a recording (<see cref="RecordFile"/>) that <c>replay:</c> reads back — to debug
/// decoding offline and to test pipelines without privileges.
/// </summary>
public static class EbpfRecordCommand
{
    public sealed record Result(long Samples, long Lost, string Source);

    /// <summary>Parses a --duration value with the config's duration rules ("10s", "1m30s").</summary>
    public static TimeSpan ParseDuration(string text) =>
        Durations.TryParse(text, out var duration) && duration > TimeSpan.Zero ? duration : throw new ArgumentException($"--duration \"{text}\" is not a positive duration (e.g. 10s, 1m)");

    public static async Task<Result> RecordAsync(EbpfReceiverConfig config, string outputPath, TimeSpan duration, ILogger logger, CancellationToken cancellationToken)
    {
        if (config.Replay is not null) throw new ArgumentException("the receiver reads a recording (replay): record from a live source (program or pinned_map)");
        var errors = ConfigValidation.Validate(config).ToList();
        if (errors.Count > 0) throw new ArgumentException("invalid ebpf receiver config: " + string.Join("; ", errors.Select(e => $"{e.Path}: {e.Message}")));
        using var stream = EbpfStream.Open(config, logger);
        using var writer = new RecordFileWriter(new BufferedStream(File.Create(outputPath), 1 << 16), stream.Clock.Offset);
        var pollMs = (int)Math.Max(1, config.PollInterval.TotalMilliseconds);
        await Task.Run(() =>
        {
            var deadline = DateTime.UtcNow + duration;
            while (DateTime.UtcNow < deadline && !cancellationToken.IsCancellationRequested)
                stream.Source.Poll(writer, Math.Min(pollMs, (int)Math.Max(1, (deadline - DateTime.UtcNow).TotalMilliseconds)));
            stream.Source.Poll(writer, 0);
        }, CancellationToken.None);
        logger.LogInformation("recorded {Samples} records ({Lost} lost) from {Source} to {Output}", writer.Samples, writer.Lost, stream.Description, outputPath);
        return new Result(writer.Samples, writer.Lost, stream.Description);
    }
}
