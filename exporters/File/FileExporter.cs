using OtelAi.Otlp.Protobuf;
using System.Buffers;
using System.Buffers.Binary;
using Google.Protobuf;
using OtelAi.Engine.Components;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Otlp;
using OtelAi.Otlp.Json;

namespace OtelAi.Exporters.FileOutput;

/// <summary>Encodes each request and appends it to the shared <see cref="RotatingFileWriter"/> of its path.</summary>
internal sealed class FileExporter<T> : IExporter<T> where T : class, IMessage<T>, new()
{
    private readonly ComponentCreateSettings _settings;
    private readonly FileExporterConfig _config;
    private readonly ExporterMetrics _metrics;
    private readonly TimeProvider? _time;
    private RotatingFileWriter? _writer;

    public FileExporter(ComponentCreateSettings settings, FileExporterConfig config, TimeProvider? time = null)
    {
        _settings = settings;
        _config = config;
        _time = time;
        _metrics = new ExporterMetrics(settings.Metrics, settings.Id, OtlpSignal<T>.Instance.Signal);
    }

    public Task StartAsync(IComponentHost host, CancellationToken cancellationToken)
    {
        _writer = RotatingFileWriter.Acquire(_config, _settings.Logger, _time);
        return Task.CompletedTask;
    }

    public async Task ShutdownAsync(CancellationToken cancellationToken)
    {
        var writer = Interlocked.Exchange(ref _writer, null);
        if (writer is not null) await writer.ReleaseAsync();
    }

    /// <summary>Writes the data out during the call and keeps none of it; the proto format writes encoded payloads as they are.</summary>
    public ConsumerCapabilities Capabilities => ConsumerCapabilities.ReadOnly with { ReadsContent = _config.Format == FileExportFormat.Json };

    public ValueTask ConsumeAsync(Payload<T> data, CancellationToken cancellationToken)
    {
        var writer = _writer ?? throw new RetryableDataException($"exporter {_settings.Id} is not running (not started, or shut down)");
        var items = data.ItemCount;
        try
        {
            FileRecordEncoder.Write(data, _config.Format, writer);
        }
        catch (IOException e)
        {
            _metrics.SendFailed(items);
            throw new RetryableDataException($"writing {writer.FullPath} failed: {e.Message}", TimeSpan.FromSeconds(1), inner: e);
        }
        _metrics.Sent(items);
        return ValueTask.CompletedTask;
    }
}

/// <summary>Encodes one request as the file format wants it and appends it to a writer in one write.</summary>
internal static class FileRecordEncoder
{
    // Requests are encoded into a per-thread buffer, then copied to the file under its lock in one write.
    [ThreadStatic] private static ArrayBufferWriter<byte>? _scratch;
    private const int ScratchKeepLimit = 4 * 1024 * 1024;

    public static void Write<T>(Payload<T> data, FileExportFormat format, RotatingFileWriter writer) where T : class, IMessage<T>, new()
    {
        var buffer = _scratch ??= new ArrayBufferWriter<byte>(64 * 1024);
        buffer.ResetWrittenCount();
        try
        {
            Encode(data, format, buffer);
            writer.Write(buffer.WrittenSpan);
        }
        finally
        {
            if (buffer.Capacity > ScratchKeepLimit) _scratch = null;
        }
    }

    private static void Encode<T>(Payload<T> data, FileExportFormat format, ArrayBufferWriter<byte> buffer) where T : class, IMessage<T>, new()
    {
        if (format == FileExportFormat.Json)
        {
            OtlpJson.Write(data.Message, buffer);
            buffer.GetSpan(1)[0] = (byte)'\n';
            buffer.Advance(1);
            return;
        }
        // The length prefix is filled in once the request is written (a decoded one is measured only by writing it).
        var prefixAt = buffer.WrittenCount;
        buffer.GetSpan(4);
        buffer.Advance(4);
        data.WriteTo(buffer);
        var size = buffer.WrittenCount - prefixAt - 4;
        BinaryPrimitives.WriteUInt32BigEndian(System.Runtime.InteropServices.MemoryMarshal.AsMemory(buffer.WrittenMemory).Span.Slice(prefixAt, 4), (uint)size);
    }
}
