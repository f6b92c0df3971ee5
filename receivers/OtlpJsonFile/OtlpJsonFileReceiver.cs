using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using OtelAi.Engine.Components;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.Extensions.Storage;
using OtelAi.Engine.Receiver;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Otlp;
using OtelAi.Otlp.Json;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;

namespace OtelAi.Receivers.OtlpJsonFile;

/// <summary>
/// Polls the files matching <c>include</c> (minus <c>exclude</c>) and sends each complete line, an OTLP/JSON
/// export request, to the consumer of its signal. Offsets are kept per file, so appended lines are read once;
/// a truncated or replaced file is read again from its start. One background loop reads every file in turn.
/// </summary>
internal sealed class OtlpJsonFileReceiver : IComponent
{
    // Enough of a file's head to tell a replaced file from the one we were reading (as otelcol's fingerprint).
    private const int FingerprintLength = 1024;
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(5);

    private readonly OtlpJsonFileReceiverConfig _config;
    private readonly ReceiverConsumers _consumers;
    private readonly ILogger _logger;
    private readonly ReceiverHelper _helper;
    private readonly FileGlob[] _include;
    private readonly FileGlob[] _exclude;
    private readonly Dictionary<string, TrackedFile> _files = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private const string OffsetsKey = "file_offsets";
    private readonly ComponentId _settingsId;
    private IStorageClient? _storage;
    private byte[] _lastSaved = [];
    private CancellationTokenSource? _stopping;
    private Task? _loop;

    public OtlpJsonFileReceiver(ComponentCreateSettings settings, OtlpJsonFileReceiverConfig config, ReceiverConsumers consumers, TimeProvider? time = null)
    {
        _config = config;
        _consumers = consumers;
        _logger = settings.Logger;
        _settingsId = settings.Id;
        _helper = new ReceiverHelper(settings, "file");
        _include = config.Include.Select(p => new FileGlob(p)).ToArray();
        _exclude = config.Exclude.Select(p => new FileGlob(p)).ToArray();
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Lines that could not be decoded or were refused for good, since start (also logged with file:line).</summary>
    public long RejectedLines => Interlocked.Read(ref _rejectedLines);

    private long _rejectedLines;

    public async Task StartAsync(IComponentHost host, CancellationToken cancellationToken)
    {
        var saved = new Dictionary<string, SavedOffset>(StringComparer.Ordinal);
        if (_config.Storage is { } storageId)
        {
            if (host.GetExtension(storageId) is not IStorageExtension storage)
                throw new InvalidOperationException($"storage \"{storageId}\" is not a configured storage extension");
            _storage = await storage.GetClientAsync(ComponentKind.Receiver, _settingsId, "", cancellationToken);
            if (await _storage.GetAsync(OffsetsKey, cancellationToken) is { } bytes)
                saved = JsonSerializer.Deserialize(bytes, SavedOffsetsJson.Default.DictionaryStringSavedOffset) ?? saved;
        }

        // With start_at: end, what exists now is skipped: record the current ends before returning, so that
        // lines appended right after start are not mistaken for old content. Offsets saved by an earlier run
        // (storage) win: reading resumes where it stopped.
        foreach (var path in MatchingFiles())
        {
            var file = new TrackedFile(path);
            if (saved.TryGetValue(path, out var offset)) file.Resume(offset);
            else if (_config.StartAt == OtlpJsonFileStartAt.End) file.SkipExistingContent();
            _files[path] = file;
        }
        _stopping = new CancellationTokenSource();
        _loop = Task.Run(() => PollLoopAsync(_stopping.Token), CancellationToken.None);
    }

    public async Task ShutdownAsync(CancellationToken cancellationToken)
    {
        // Taken once: a second shutdown finds nothing left to stop.
        var stopping = Interlocked.Exchange(ref _stopping, null);
        var loop = Interlocked.Exchange(ref _loop, null);
        if (stopping is null || loop is null) return;
        await stopping.CancelAsync();
        try
        {
            await loop.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
        stopping.Dispose();
        if (_storage is not null)
        {
            await SaveOffsetsAsync(cancellationToken);
            await _storage.DisposeAsync();
        }
    }

    private async Task SaveOffsetsAsync(CancellationToken ct)
    {
        if (_storage is null) return;
        var bytes = JsonSerializer.SerializeToUtf8Bytes(_files.ToDictionary(kv => kv.Key, kv => kv.Value.Save(), StringComparer.Ordinal), SavedOffsetsJson.Default.DictionaryStringSavedOffset);
        if (bytes.AsSpan().SequenceEqual(_lastSaved)) return;
        try
        {
            await _storage.SetAsync(OffsetsKey, bytes, ct);
            _lastSaved = bytes;
        }
        catch (IOException e)
        {
            _logger.LogWarning("saving file offsets to storage failed: {Error}", e.Message);
        }
    }

    private IEnumerable<string> MatchingFiles() =>
        _include.SelectMany(g => g.EnumerateMatches())
            .Where(path => !_exclude.Any(g => g.IsMatch(path)))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal);

    private async Task PollLoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(_config.PollInterval, _time);
        do
        {
            try
            {
                await PollOnceAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                _logger.LogError(e, "polling files failed; retrying at the next poll");
            }
        }
        while (await WaitForTickAsync(timer, ct));
    }

    private static async Task<bool> WaitForTickAsync(PeriodicTimer timer, CancellationToken ct)
    {
        try
        {
            return await timer.WaitForNextTickAsync(ct);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    internal async Task PollOnceAsync(CancellationToken ct)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var path in MatchingFiles())
        {
            seen.Add(path);
            if (!_files.TryGetValue(path, out var file)) _files[path] = file = new TrackedFile(path);
            await ReadFileAsync(file, ct);
        }
        // Forget deleted files; if one comes back it is a new file.
        foreach (var gone in _files.Keys.Where(p => !seen.Contains(p)).ToList()) _files.Remove(gone);
        await SaveOffsetsAsync(ct);
    }

    private async Task ReadFileAsync(TrackedFile file, CancellationToken ct)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(file.Path, new FileStreamOptions
            {
                Access = FileAccess.Read,
                Share = FileShare.ReadWrite | FileShare.Delete,
                Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("cannot open {Path}: {Error}", file.Path, e.Message);
            return;
        }

        await using (stream)
        {
            var length = stream.Length;
            var modified = File.GetLastWriteTimeUtc(file.Path);
            if (_config.ReplayFile)
            {
                if (!file.ChangedSinceLastRead(length, modified)) return;
                file.Restart();
            }
            else if (length < file.Offset || !await file.HeadMatchesAsync(stream, ct))
            {
                _logger.LogInformation("{Path} was truncated or replaced; reading it from the start", file.Path);
                file.Restart();
            }
            else if (length == file.Offset) return;

            stream.Position = file.Offset;
            await ReadLinesAsync(file, stream, ct);
            await file.RememberHeadAsync(stream, ct);
            file.RecordRead(length, modified);
        }
    }

    private async Task ReadLinesAsync(TrackedFile file, FileStream stream, CancellationToken ct)
    {
        var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, leaveOpen: true));
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(ct);
                var buffer = result.Buffer;
                while (TryReadLine(ref buffer, out var line))
                {
                    await HandleLineAsync(file, line, ct);
                    file.Offset += line.Length + 1;
                    file.LineNumber++;
                    file.PartialSince = null;
                }

                if (result.IsCompleted)
                {
                    // A last line without newline is read once it has stayed unchanged for force_flush_period.
                    if (!buffer.IsEmpty && ShouldFlushPartial(file, file.Offset + buffer.Length))
                    {
                        await HandleLineAsync(file, buffer, ct);
                        file.Offset += buffer.Length;
                        file.LineNumber++;
                        file.PartialSince = null;
                        buffer = buffer.Slice(buffer.End);
                    }
                    reader.AdvanceTo(buffer.Start, buffer.End);
                    return;
                }
                reader.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        finally
        {
            await reader.CompleteAsync();
        }
    }

    private bool ShouldFlushPartial(TrackedFile file, long end)
    {
        if (_config.ReplayFile) return true; // the whole file is read as it is now
        var now = _time.GetUtcNow();
        if (file.PartialSince is not { } since || file.PartialEnd != end)
        {
            file.PartialSince = now;
            file.PartialEnd = end;
            return _config.ForceFlushPeriod == TimeSpan.Zero;
        }
        return now - since >= _config.ForceFlushPeriod;
    }

    private static bool TryReadLine(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> line)
    {
        var newline = buffer.PositionOf((byte)'\n');
        if (newline is null)
        {
            line = default;
            return false;
        }
        line = buffer.Slice(0, newline.Value);
        buffer = buffer.Slice(buffer.GetPosition(1, newline.Value));
        return true;
    }

    private async Task HandleLineAsync(TrackedFile file, ReadOnlySequence<byte> line, CancellationToken ct)
    {
        var lineNumber = file.LineNumber + 1;
        if (IsBlank(line)) return;

        if (DetectSignal(line, out var error) is not { } signal)
        {
            Reject(file, lineNumber, null, error!);
            return;
        }

        switch (signal)
        {
            case Signal.Traces when _consumers.Traces is { } traces:
                await DeliverAsync(file, lineNumber, line, traces, ct);
                break;
            case Signal.Metrics when _consumers.Metrics is { } metrics:
                await DeliverAsync(file, lineNumber, line, metrics, ct);
                break;
            case Signal.Logs when _consumers.Logs is { } logs:
                await DeliverAsync(file, lineNumber, line, logs, ct);
                break;
            default:
                _logger.LogDebug("{Path}:{Line}: no pipeline takes {Signal}; line skipped", file.Path, lineNumber, signal.ToConfigName());
                break;
        }
    }

    private async Task DeliverAsync<T>(TrackedFile file, long lineNumber, ReadOnlySequence<byte> line, ITelemetryConsumer<T> consumer, CancellationToken ct)
        where T : class, Google.Protobuf.IMessage<T>, new()
    {
        var ops = OtlpSignal<T>.Instance;
        var delay = FirstRetryDelay;
        while (true)
        {
            T data;
            try
            {
                // Parsed again on every attempt: a refused request may have been changed by a consumer.
                data = OtlpJson.Parse<T>(line);
            }
            catch (OtlpJsonException e)
            {
                Reject(file, lineNumber, ops.Signal, e.Message);
                return;
            }

            if (ops.ResourceCount(data) == 0) return;
            var (items, refusal) = await _helper.ConsumeAsync(consumer, data, client: null, ct, retriesBackpressure: true);
            if (refusal is null) return;
            if (refusal is OperationCanceledException && ct.IsCancellationRequested) throw refusal;
            if (refusal is RetryableDataException throttled)
            {
                // Backpressure: the line stays ours until the pipeline takes it.
                var wait = throttled.RetryAfter ?? delay;
                _logger.LogDebug("{Path}:{Line}: pipeline refused {Items} {ItemName} for now ({Error}); retrying in {Delay}",
                    file.Path, lineNumber, items, ops.Signal.ItemName(), throttled.Message, wait);
                await Task.Delay(wait, _time, ct);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
                continue;
            }
            Interlocked.Increment(ref _rejectedLines);
            _logger.LogError("{Path}:{Line}: pipeline refused {Items} {ItemName}: {Error}", file.Path, lineNumber, items, ops.Signal.ItemName(), refusal.Message);
            return;
        }
    }

    // A line that cannot be decoded counts as one refused item of its signal: its real item count is unknown.
    private void Reject(TrackedFile file, long lineNumber, Signal? signal, string error)
    {
        if (signal is { } s) _helper.Refused(s, 1);
        Interlocked.Increment(ref _rejectedLines);
        _logger.LogError("{Path}:{Line}: malformed OTLP/JSON line skipped: {Error}", file.Path, lineNumber, error);
    }

    private static bool IsBlank(ReadOnlySequence<byte> line)
    {
        foreach (var segment in line)
            foreach (var b in segment.Span)
                if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r')) return false;
        return true;
    }

    /// <summary>The signal of a line, from its first top-level key that names one (resourceSpans or resource_spans, ...).</summary>
    internal static Signal? DetectSignal(ReadOnlySequence<byte> line, out string? error)
    {
        error = null;
        try
        {
            var reader = new Utf8JsonReader(line);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                error = "a line must be one JSON object";
                return null;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("resourceSpans"u8) || reader.ValueTextEquals("resource_spans"u8)) return Signal.Traces;
                if (reader.ValueTextEquals("resourceMetrics"u8) || reader.ValueTextEquals("resource_metrics"u8)) return Signal.Metrics;
                if (reader.ValueTextEquals("resourceLogs"u8) || reader.ValueTextEquals("resource_logs"u8)) return Signal.Logs;
                reader.Read();
                reader.Skip();
            }
            error = "the object has none of resourceSpans, resourceMetrics, resourceLogs";
            return null;
        }
        catch (JsonException e)
        {
            error = e.Message;
            return null;
        }
    }

    /// <summary>Read state of one file.</summary>
    private sealed class TrackedFile(string path)
    {
        private byte[] _head = [];
        private long _lastLength = -1;
        private DateTime _lastModified;

        public string Path { get; } = path;

        /// <summary>Byte offset of the first line not yet handled.</summary>
        public long Offset { get; set; }

        /// <summary>Lines handled so far (the next line's number is this + 1).</summary>
        public long LineNumber { get; set; }

        /// <summary>When the current unterminated last line, ending at <see cref="PartialEnd"/>, was first seen.</summary>
        public DateTimeOffset? PartialSince { get; set; }

        public long PartialEnd { get; set; }

        /// <summary>
        /// start_at: end: skips the complete lines present now, counting them so later line numbers stay true.
        /// An unterminated last line may still be being written, so it is read once complete.
        /// </summary>
        public void SkipExistingContent()
        {
            try
            {
                using var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                RecordRead(stream.Length, File.GetLastWriteTimeUtc(Path));
                var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
                try
                {
                    long position = 0;
                    int read;
                    while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
                    {
                        var chunk = buffer.AsSpan(0, read);
                        int start = 0, newline;
                        while ((newline = chunk[start..].IndexOf((byte)'\n')) >= 0)
                        {
                            start += newline + 1;
                            LineNumber++;
                            Offset = position + start;
                        }
                        position += read;
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
                stream.Position = 0;
                _head = new byte[Math.Min(FingerprintLength, Offset)];
                stream.ReadExactly(_head);
            }
            catch (IOException)
            {
                // Gone or unreadable already: the poll loop will treat it as new if it comes back.
            }
        }

        public SavedOffset Save() => new(Offset, LineNumber, Convert.ToBase64String(_head));

        public void Resume(SavedOffset saved)
        {
            Offset = saved.Offset;
            LineNumber = saved.Line;
            _head = Convert.FromBase64String(saved.Head);
        }

        public void Restart()
        {
            Offset = 0;
            LineNumber = 0;
            PartialSince = null;
            _head = [];
        }

        public bool ChangedSinceLastRead(long length, DateTime modified) => length != _lastLength || modified != _lastModified;

        public void RecordRead(long length, DateTime modified)
        {
            _lastLength = length;
            _lastModified = modified;
        }

        public async Task<bool> HeadMatchesAsync(FileStream stream, CancellationToken ct)
        {
            if (_head.Length == 0) return true;
            var current = new byte[_head.Length];
            stream.Position = 0;
            var read = await stream.ReadAtLeastAsync(current, current.Length, throwOnEndOfStream: false, ct);
            return read == current.Length && current.AsSpan().SequenceEqual(_head);
        }

        public async Task RememberHeadAsync(FileStream stream, CancellationToken ct)
        {
            if (_head.Length == FingerprintLength || Offset == 0) return;
            var head = new byte[Math.Min(FingerprintLength, Offset)];
            stream.Position = 0;
            var read = await stream.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, ct);
            _head = head[..read];
        }
    }
}

/// <summary>Where reading of one file stopped, as kept in the storage extension between runs.</summary>
internal sealed record SavedOffset(long Offset, long Line, string Head);

/// <summary>The saved offsets' JSON, generated at build time (no reflection: the executable may be Native AOT).</summary>
[JsonSerializable(typeof(Dictionary<string, SavedOffset>))]
internal sealed partial class SavedOffsetsJson : JsonSerializerContext;
