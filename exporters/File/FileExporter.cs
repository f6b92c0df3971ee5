using System.Buffers;
using System.Buffers.Binary;
using Google.Protobuf;
using OtelAi.Engine.Components;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Engine.Telemetry;
using OtelAi.Engine.Telemetry.Json;

namespace OtelAi.Exporters.FileOutput;

/// <summary>Encodes each request and appends it to the shared <see cref="RotatingFileWriter"/> of its path.</summary>
internal sealed class FileExporter<T> : IExporter<T> where T : class, IMessage<T>, new()
{
    // Requests are encoded into a per-thread buffer, then copied to the file under its lock in one write.
    [ThreadStatic] private static ArrayBufferWriter<byte>? _scratch;
    private const int ScratchKeepLimit = 4 * 1024 * 1024;

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
        _metrics = new ExporterMetrics(settings.Metrics, settings.Id, SignalData<T>.Ops.Signal);
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

    public ValueTask ConsumeAsync(T data, CancellationToken cancellationToken)
    {
        var writer = _writer ?? throw new InvalidOperationException($"{_settings.Id} is not started");
        var items = SignalData<T>.Ops.CountItems(data);
        var buffer = _scratch ??= new ArrayBufferWriter<byte>(64 * 1024);
        buffer.ResetWrittenCount();
        try
        {
            Encode(data, buffer);
            writer.Write(buffer.WrittenSpan);
        }
        catch (IOException e)
        {
            _metrics.SendFailed(items);
            throw new RetryableDataException($"writing {writer.FullPath} failed: {e.Message}", TimeSpan.FromSeconds(1), inner: e);
        }
        finally
        {
            if (buffer.Capacity > ScratchKeepLimit) _scratch = null;
        }
        _metrics.Sent(items);
        return ValueTask.CompletedTask;
    }

    private void Encode(T data, ArrayBufferWriter<byte> buffer)
    {
        if (_config.Format == FileExportFormat.Json)
        {
            OtlpJson.Write(data, buffer);
            buffer.GetSpan(1)[0] = (byte)'\n';
            buffer.Advance(1);
            return;
        }
        var size = data.CalculateSize();
        var span = buffer.GetSpan(4 + size);
        BinaryPrimitives.WriteUInt32BigEndian(span, (uint)size);
        data.WriteTo(span.Slice(4, size));
        buffer.Advance(4 + size);
    }
}
