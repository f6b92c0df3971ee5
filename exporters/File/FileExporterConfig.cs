using System.Globalization;
using OtelAi.Engine.Config;

namespace OtelAi.Exporters.FileOutput;

[ConfigDescription("Writes telemetry to a file: one OTLP/JSON export request per line (or length-prefixed protobuf), with optional size-based rotation and gzip.")]
public sealed record FileExporterConfig : ComponentConfig
{
    [ConfigDescription("Path of the file to write (required); relative paths are resolved against the working directory.")]
    public string Path { get; init; } = "";

    [ConfigDescription("`json`: one OTLP/JSON request per line. `proto`: each request as binary protobuf preceded by its length as a 4-byte big-endian integer.")]
    public FileExportFormat Format { get; init; } = FileExportFormat.Json;

    [ConfigDescription("Compression of the whole file: empty for none or `gzip` (the file is one gzip stream, readable with zcat). otelcol's `zstd` is not supported by otelai.")]
    public string Compression { get; init; } = "";

    [ConfigDescription("Append to an existing file instead of truncating it at start. Cannot be combined with rotation or compression.")]
    public bool Append { get; init; }

    [ConfigDescription("Rotate the file by size; rotation is off unless this key is present (an empty `rotation:` uses the defaults).")]
    public FileRotationConfig? Rotation { get; init; }

    [ConfigDescription("How often buffered data is flushed to the file; 0 uses 1s.")]
    public TimeSpan FlushInterval { get; init; } = TimeSpan.FromSeconds(1);

    [ConfigDescription("Create the file's parent directory at start when it does not exist.")]
    public bool CreateDirectory { get; init; }

    [ConfigDescription("Octal permissions for directories created by create_directory (minus the umask); default 0755.")]
    public string DirectoryPermissions { get; init; } = "";

    [ConfigDescription("Write each resource to its own file, named by a resource attribute (path must contain one *).")]
    public FileGroupByConfig GroupBy { get; init; } = new();

    /// <summary>The flush interval in effect: otelcol treats 0 as 1s.</summary>
    internal TimeSpan EffectiveFlushInterval => FlushInterval == TimeSpan.Zero ? TimeSpan.FromSeconds(1) : FlushInterval;

    internal bool Gzip => Compression == "gzip";

    internal UnixFileMode DirectoryMode =>
        (UnixFileMode)Convert.ToInt32(DirectoryPermissions.Length == 0 ? "0755" : DirectoryPermissions, 8);

    public override IEnumerable<ConfigError> Validate()
    {
        if (string.IsNullOrWhiteSpace(Path)) yield return new ConfigError("path", "path must be non-empty");
        if (Compression == "zstd")
            yield return new ConfigError("compression", "zstd is not supported by otelai; use \"gzip\" (the whole file is one gzip stream) or leave it empty");
        else if (Compression is not ("" or "gzip"))
            yield return new ConfigError("compression", $"unknown compression \"{Compression}\"; expected \"gzip\" or empty");
        if (Append && Compression.Length > 0) yield return new ConfigError("append", "append and compression enabled at the same time is not supported");
        if (Append && Rotation is not null) yield return new ConfigError("append", "append and rotation enabled at the same time is not supported");
        if (FlushInterval < TimeSpan.Zero) yield return new ConfigError("flush_interval", "must not be negative");
        if (DirectoryPermissions.Length > 0)
        {
            if (!CreateDirectory) yield return new ConfigError("directory_permissions", "directory_permissions requires create_directory to be true");
            else if (!IsOctalMode(DirectoryPermissions)) yield return new ConfigError("directory_permissions", "must be an octal mode such as \"0755\"");
        }
        if (GroupBy.Enabled)
        {
            var parts = Path.Split('*');
            if (parts.Length != 2) yield return new ConfigError("path", "path must contain exactly one * when group_by is enabled");
            else if (parts[0].Length == 0) yield return new ConfigError("path", "path must not start with * when group_by is enabled");
            if (string.IsNullOrEmpty(GroupBy.ResourceAttribute)) yield return new ConfigError("group_by.resource_attribute", "resource_attribute must not be empty when group_by is enabled");
            if (GroupBy.MaxOpenFiles < 1) yield return new ConfigError("group_by.max_open_files", "must be at least 1");
        }
    }

    private static bool IsOctalMode(string text) =>
        text.All(c => c is >= '0' and <= '7') && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out _) && Convert.ToInt32(text, 8) <= 0x1FF;
}

public enum FileExportFormat
{
    [ConfigKey("json")] Json,
    [ConfigKey("proto")] Proto,
}

public sealed record FileRotationConfig : IConfigSection
{
    [ConfigDescription("Size in megabytes at which the file is rotated.")]
    [ConfigRange(1, int.MaxValue)]
    public int MaxMegabytes { get; init; } = 100;

    [ConfigDescription("Days to keep rotated files, judged by the timestamp in their name; 0 keeps them regardless of age.")]
    [ConfigRange(0, int.MaxValue)]
    public int MaxDays { get; init; }

    [ConfigDescription("Number of rotated files to keep; 0 keeps all of them.")]
    [ConfigRange(0, int.MaxValue)]
    public int MaxBackups { get; init; } = 100;

    [ConfigDescription("Use local time instead of UTC in rotated file names.")]
    [ConfigKey("localtime")]
    public bool LocalTime { get; init; }

    public IEnumerable<ConfigError> Validate()
    {
        if (MaxMegabytes <= 0) yield return new ConfigError("max_megabytes", "must be at least 1");
        if (MaxDays < 0) yield return new ConfigError("max_days", "must not be negative");
        if (MaxBackups < 0) yield return new ConfigError("max_backups", "must not be negative");
    }
}

public sealed record FileGroupByConfig
{
    [ConfigDescription("Split output by resource attribute: the * in path is replaced by the attribute's value; resources without it are dropped (counted as send failures).")]
    public bool Enabled { get; init; }

    [ConfigDescription("Resource attribute (a string) whose value replaces the * in path.")]
    public string ResourceAttribute { get; init; } = "fileexporter.path_segment";

    [ConfigDescription("Files kept open at once; the least recently written is closed beyond this.")]
    public int MaxOpenFiles { get; init; } = 100;
}
