using System.Globalization;
using System.IO.Compression;
using Microsoft.Extensions.Logging;

namespace OtelAi.Exporters.FileOutput;

/// <summary>
/// The output file of file exporters. Exporter instances are per signal, but every signal of one exporter (and
/// any exporter naming the same path) must append to the same file, as otelcol shares one writer per config:
/// writers are shared by full path and reference-counted. Records are appended under a lock (one short write per
/// request); a timer flushes buffered bytes every flush_interval; rotation renames the full file to a timestamped
/// backup, as otelcol's (lumberjack) rotation does, and prunes old backups.
/// </summary>
internal sealed class RotatingFileWriter
{
    private const string BackupTimeFormat = "yyyy-MM-ddTHH-mm-ss.fff";
    private static readonly Dictionary<string, RotatingFileWriter> OpenWriters = new(StringComparer.Ordinal);
    private static readonly Lock OpenWritersLock = new();

    private readonly FileExporterConfig _config;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly ITimer _flushTimer;
    private FileStream _file = null!;
    private Stream _output = null!;
    private long _written;
    private int _users;
    private bool _dirty;

    private RotatingFileWriter(string path, FileExporterConfig config, ILogger logger, TimeProvider time)
    {
        FullPath = path;
        _config = config;
        _logger = logger;
        _time = time;
        var directory = Path.GetDirectoryName(path)!;
        if (config.CreateDirectory && !Directory.Exists(directory))
        {
            if (OperatingSystem.IsWindows()) Directory.CreateDirectory(directory);
            else Directory.CreateDirectory(directory, config.DirectoryMode);
        }
        // Rotation appends to what is there (and rotates when full); otherwise append decides.
        Open(config.Append || config.Rotation is not null ? FileMode.Append : FileMode.Create);
        _flushTimer = time.CreateTimer(_ => Flush(), null, config.EffectiveFlushInterval, config.EffectiveFlushInterval);
    }

    public string FullPath { get; }

    /// <summary>Opens (or joins) the writer of <paramref name="config"/>'s path.</summary>
    public static RotatingFileWriter Acquire(FileExporterConfig config, ILogger logger, TimeProvider? time = null)
    {
        var path = Path.GetFullPath(config.Path);
        lock (OpenWritersLock)
        {
            if (!OpenWriters.TryGetValue(path, out var writer))
            {
                writer = new RotatingFileWriter(path, config, logger, time ?? TimeProvider.System);
                OpenWriters[path] = writer;
            }
            else if (writer._config != config)
            {
                logger.LogWarning("{Path} is already written by an exporter with other settings; those settings apply", path);
            }
            writer._users++;
            return writer;
        }
    }

    /// <summary>Leaves the writer; the last user flushes and closes the file.</summary>
    public async ValueTask ReleaseAsync()
    {
        lock (OpenWritersLock)
        {
            if (--_users > 0) return;
            OpenWriters.Remove(FullPath);
        }
        await _flushTimer.DisposeAsync();
        lock (_lock) CloseCurrent();
    }

    /// <summary>Appends one encoded record (a JSON line or a length-prefixed protobuf message).</summary>
    public void Write(ReadOnlySpan<byte> record)
    {
        lock (_lock)
        {
            if (_config.Rotation is { } rotation && _written > 0 && _written + record.Length > rotation.MaxMegabytes * 1024L * 1024L)
                Rotate(rotation);
            _output.Write(record);
            _written += record.Length;
            _dirty = true;
        }
    }

    public void Flush()
    {
        lock (_lock)
        {
            if (!_dirty) return;
            try
            {
                _output.Flush();
                _file.Flush();
                _dirty = false;
            }
            catch (IOException e)
            {
                _logger.LogError("flushing {Path} failed: {Error}", FullPath, e.Message);
            }
        }
    }

    private void Open(FileMode mode)
    {
        _file = new FileStream(FullPath, mode, FileAccess.Write, FileShare.Read | FileShare.Delete, bufferSize: 64 * 1024);
        _written = _file.Length;
        _output = _config.Gzip ? new GZipStream(_file, CompressionLevel.Fastest, leaveOpen: true) : _file;
    }

    private void CloseCurrent()
    {
        if (!ReferenceEquals(_output, _file)) _output.Dispose(); // writes the gzip trailer
        _file.Dispose();
    }

    private void Rotate(FileRotationConfig rotation)
    {
        CloseCurrent();
        var now = rotation.LocalTime ? _time.GetLocalNow().DateTime : _time.GetUtcNow().UtcDateTime;
        var backup = BackupPath(now);
        File.Move(FullPath, backup);
        _logger.LogInformation("rotated {Path} to {Backup}", FullPath, backup);
        Open(FileMode.Create);
        PruneBackups(rotation, now);
    }

    // name-<timestamp>.ext next to the file, as lumberjack names backups.
    private string BackupPath(DateTime now)
    {
        var (prefix, extension) = BackupNameParts();
        var stamp = now.ToString(BackupTimeFormat, CultureInfo.InvariantCulture);
        var candidate = prefix + stamp + extension;
        for (var n = 1; File.Exists(candidate); n++) candidate = $"{prefix}{stamp}.{n}{extension}";
        return candidate;
    }

    private (string Prefix, string Extension) BackupNameParts()
    {
        var directory = Path.GetDirectoryName(FullPath)!;
        var extension = Path.GetExtension(FullPath);
        return (Path.Combine(directory, Path.GetFileNameWithoutExtension(FullPath) + "-"), extension);
    }

    private void PruneBackups(FileRotationConfig rotation, DateTime now)
    {
        var (prefix, extension) = BackupNameParts();
        var backups = new List<(string Path, DateTime Time)>();
        foreach (var path in Directory.EnumerateFiles(Path.GetDirectoryName(FullPath)!))
        {
            if (!path.StartsWith(prefix, StringComparison.Ordinal) || !path.EndsWith(extension, StringComparison.Ordinal)) continue;
            var stamp = path[prefix.Length..^extension.Length];
            if (stamp.Length < BackupTimeFormat.Length) continue;
            if (DateTime.TryParseExact(stamp[..BackupTimeFormat.Length], BackupTimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out var time))
                backups.Add((path, time));
        }
        var doomed = backups.OrderByDescending(b => b.Time).ThenByDescending(b => b.Path, StringComparer.Ordinal)
            .Where((b, index) => (rotation.MaxBackups > 0 && index >= rotation.MaxBackups)
                || (rotation.MaxDays > 0 && now - b.Time > TimeSpan.FromDays(rotation.MaxDays)));
        foreach (var (path, _) in doomed.ToList())
        {
            try
            {
                File.Delete(path);
            }
            catch (IOException e)
            {
                _logger.LogWarning("cannot remove old backup {Backup}: {Error}", path, e.Message);
            }
        }
    }
}
