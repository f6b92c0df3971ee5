using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Extensions.Storage;
using OtelAi.Otlp;

namespace OtelAi.Engine.Extensions.FileStorage;

/// <summary>otelcol-contrib's file_storage compaction options.</summary>
public sealed record FileStorageCompactionConfig
{
    [ConfigDescription("Compact every client's file when it is opened.")]
    public bool OnStart { get; init; }

    [ConfigDescription("Compact a file while running once it grew past rebound_needed_threshold_mib and its live data fell below rebound_trigger_threshold_mib.")]
    public bool OnRebound { get; init; }

    [ConfigDescription("Directory for the temporary file written during compaction (default: the storage directory).")]
    public string? Directory { get; init; }

    [ConfigDescription("Accepted for otelcol compatibility (a bbolt transaction limit); compaction here copies entries in one pass.")]
    public long MaxTransactionSize { get; init; } = 65536;

    [ConfigDescription("File size (MiB) above which on_rebound compaction becomes due.")]
    public long ReboundNeededThresholdMib { get; init; } = 100;

    [ConfigDescription("Live data size (MiB) below which a due on_rebound compaction runs.")]
    public long ReboundTriggerThresholdMib { get; init; } = 10;

    [ConfigDescription("How often on_rebound conditions are checked.")]
    public TimeSpan CheckInterval { get; init; } = TimeSpan.FromSeconds(5);
}

[ConfigDescription("Durable key/value storage in local files, e.g. for persistent exporter queues.")]
public sealed record FileStorageConfig : ComponentConfig
{
    [ConfigDescription("Directory holding one file per storage client; must exist unless create_directory is true.")]
    public string Directory { get; init; } = "/var/lib/otelcol/file_storage";

    [ConfigDescription("How long to wait for a file held by another process before failing.")]
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(1);

    [ConfigDescription("Flush every write to disk (fsync) before acknowledging it: survives power loss, costs throughput.")]
    public bool Fsync { get; init; }

    [ConfigDescription("Create the directory (and parents) at start when it does not exist.")]
    public bool CreateDirectory { get; init; }

    [ConfigDescription("Permissions (octal) of a directory created by create_directory.")]
    public string DirectoryPermissions { get; init; } = "0750";

    [ConfigDescription("Compaction of the storage files.")]
    public FileStorageCompactionConfig Compaction { get; init; } = new();

    public override IEnumerable<ConfigError> Validate()
    {
        if (string.IsNullOrWhiteSpace(Directory)) yield return new("directory", "must be set");
        else if (!CreateDirectory && !System.IO.Directory.Exists(Directory))
            yield return new("directory", $"directory \"{Directory}\" does not exist (create it, or set create_directory: true)");
        if (Compaction.Directory is { } cd && !CreateDirectory && !System.IO.Directory.Exists(cd))
            yield return new("compaction.directory", $"directory \"{cd}\" does not exist");
        if (Timeout < TimeSpan.Zero) yield return new("timeout", "must not be negative");
        if (Compaction.OnRebound && Compaction.CheckInterval <= TimeSpan.Zero) yield return new("compaction.check_interval", "must be positive");
        if (Compaction.ReboundNeededThresholdMib < 0) yield return new("compaction.rebound_needed_threshold_mib", "must not be negative");
        if (Compaction.ReboundTriggerThresholdMib < 0) yield return new("compaction.rebound_trigger_threshold_mib", "must not be negative");
        if (Compaction.MaxTransactionSize < 0) yield return new("compaction.max_transaction_size", "must not be negative");
        if (!TryParseOctal(DirectoryPermissions, out _)) yield return new("directory_permissions", $"\"{DirectoryPermissions}\" is not an octal permission like 0750");
    }

    internal static bool TryParseOctal(string text, out UnixFileMode mode)
    {
        mode = 0;
        if (string.IsNullOrEmpty(text) || text.Length > 4) return false;
        var value = 0;
        foreach (var c in text)
        {
            if (c is < '0' or > '7') return false;
            value = value * 8 + (c - '0');
        }
        mode = (UnixFileMode)value;
        return true;
    }
}

public sealed class FileStorageFactory : ExtensionFactory<FileStorageConfig>
{
    public override string Type => "file_storage";

    protected override IComponent Create(ComponentCreateSettings settings, FileStorageConfig config) =>
        new FileStorageExtension(settings, config);
}

/// <summary>Hands out one file-backed client per (component kind, id, name); runs on_rebound compaction.</summary>
public sealed class FileStorageExtension : IStorageExtension
{
    private readonly ComponentCreateSettings _settings;
    private readonly FileStorageConfig _config;
    private readonly ConcurrentDictionary<string, FileStorageClient> _clients = new(StringComparer.Ordinal);
    private CancellationTokenSource? _stop;
    private Task? _reboundLoop;

    public FileStorageExtension(ComponentCreateSettings settings, FileStorageConfig config)
    {
        _settings = settings;
        _config = config;
    }

    public Task StartAsync(IComponentHost host, CancellationToken cancellationToken)
    {
        EnsureDirectory(_config.Directory);
        if (_config.Compaction.Directory is { } compactionDirectory) EnsureDirectory(compactionDirectory);
        if (_config.Compaction.OnRebound)
        {
            _stop = new CancellationTokenSource();
            _reboundLoop = RunReboundCompactionAsync(_stop.Token);
        }
        return Task.CompletedTask;
    }

    public async Task ShutdownAsync(CancellationToken cancellationToken)
    {
        if (_stop is not null)
        {
            await _stop.CancelAsync();
            try { await _reboundLoop!; } catch (OperationCanceledException) { }
        }
        foreach (var client in _clients.Values.ToList()) await client.DisposeAsync();
    }

    public async ValueTask<IStorageClient> GetClientAsync(ComponentKind kind, ComponentId id, string name, CancellationToken cancellationToken)
    {
        var fileName = ClientFileName(kind, id, name);
        var path = Path.Combine(_config.Directory, fileName);
        if (_clients.ContainsKey(path))
            throw new InvalidOperationException($"file storage client {fileName} is already open (one client per component and name)");
        var client = await FileStorageClient.OpenAsync(path, _config.Compaction.Directory ?? _config.Directory, _config.Fsync, _config.Timeout,
            _settings.Logger, closed => _clients.TryRemove(closed.Path, out _), cancellationToken);
        if (!_clients.TryAdd(path, client))
        {
            await client.DisposeAsync();
            throw new InvalidOperationException($"file storage client {fileName} is already open (one client per component and name)");
        }
        if (_config.Compaction.OnStart) client.Compact();
        return client;
    }

    /// <summary>otelcol's naming: <c>{kind}_{type}_{name}_{client}</c>, with unsafe characters escaped as <c>~XX</c>.</summary>
    internal static string ClientFileName(ComponentKind kind, ComponentId id, string name)
    {
        var raw = $"{kind.ToString().ToLowerInvariant()}_{id.Type}_{id.Name}";
        if (name.Length > 0) raw += "_" + name;
        var sb = new StringBuilder(raw.Length);
        foreach (var c in raw)
        {
            if (char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.') sb.Append(c);
            else foreach (var b in Encoding.UTF8.GetBytes(c.ToString())) sb.Append('~').Append(b.ToString("X2"));
        }
        return sb.ToString();
    }

    private void EnsureDirectory(string directory)
    {
        if (Directory.Exists(directory)) return;
        if (!_config.CreateDirectory)
            throw new DirectoryNotFoundException($"file_storage directory \"{directory}\" does not exist (create it, or set create_directory: true)");
        FileStorageConfig.TryParseOctal(_config.DirectoryPermissions, out var mode);
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(directory);
        else Directory.CreateDirectory(directory, mode);
    }

    private async Task RunReboundCompactionAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_config.Compaction.CheckInterval);
        var needed = _config.Compaction.ReboundNeededThresholdMib * 1024 * 1024;
        var trigger = _config.Compaction.ReboundTriggerThresholdMib * 1024 * 1024;
        while (await timer.WaitForNextTickAsync(cancellationToken))
        {
            foreach (var client in _clients.Values)
            {
                try { client.CompactIfRebounded(needed, trigger); }
                catch (IOException ex) { _settings.Logger.LogError(ex, "file storage {Path}: compaction failed; the file is unchanged", client.Path); }
            }
        }
    }
}
