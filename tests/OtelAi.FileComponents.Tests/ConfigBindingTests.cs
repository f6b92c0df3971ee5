using OtelAi.Engine.Config;
using OtelAi.Exporters.DebugOutput;
using OtelAi.Exporters.FileOutput;
using OtelAi.Receivers.OtlpJsonFile;

namespace OtelAi.FileComponents.Tests;

/// <summary>otelcol's documented configs for these components bind unchanged (samples from otelcol's READMEs/testdata).</summary>
public sealed class ConfigBindingTests
{
    [Fact]
    public void File_exporter_samples_bind_with_otelcol_defaults()
    {
        var defaults = ConfigLoader.Bind<FileExporterConfig>("path: ./foo\n");
        Assert.Equal(FileExportFormat.Json, defaults.Format);
        Assert.Null(defaults.Rotation);
        Assert.False(defaults.Append);
        Assert.Equal(TimeSpan.FromSeconds(1), defaults.FlushInterval);

        // An empty "rotation:" turns rotation on with its defaults.
        var rotationDefaults = ConfigLoader.Bind<FileExporterConfig>("path: ./foo\nrotation:\n");
        Assert.Equal(new FileRotationConfig { MaxMegabytes = 100, MaxDays = 0, MaxBackups = 100, LocalTime = false }, rotationDefaults.Rotation);

        var custom = ConfigLoader.Bind<FileExporterConfig>("""
            path: ./filename.json
            rotation:
              max_megabytes: 10
              max_days: 3
              max_backups: 3
              localtime: true
            format: proto
            flush_interval: 500ms
            """);
        Assert.Equal(new FileRotationConfig { MaxMegabytes = 10, MaxDays = 3, MaxBackups = 3, LocalTime = true }, custom.Rotation);
        Assert.Equal(FileExportFormat.Proto, custom.Format);
        Assert.Equal(TimeSpan.FromMilliseconds(500), custom.FlushInterval);
        Assert.Equal("gzip", ConfigLoader.Bind<FileExporterConfig>("path: x\ncompression: gzip\n").Compression);
    }

    [Theory]
    [InlineData("path: ./filename\nformat: text\n", "format")]
    [InlineData("path: ./filename\nrotation:\n  max_megabytes: 10\nformat: proto\ncompression: zstd\n", "zstd is not supported by otelai")]
    [InlineData("path: ./foo\ngroup_by:\n  enabled: true\n", "path must contain exactly one * when group_by is enabled")]
    [InlineData("rotation:\n", "path must be non-empty")]
    public void File_exporter_configs_we_cannot_honour_are_rejected_with_a_reason(string yaml, string expected)
    {
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.Bind<FileExporterConfig>(yaml));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Otlpjsonfile_readme_sample_binds()
    {
        var config = ConfigLoader.Bind<OtlpJsonFileReceiverConfig>("""
            include:
              - "/var/log/*.log"
            exclude:
              - "/var/log/example.log"
            """);
        Assert.Equal(["/var/log/*.log"], config.Include);
        Assert.Equal(["/var/log/example.log"], config.Exclude);
        Assert.Equal(OtlpJsonFileStartAt.End, config.StartAt);
        Assert.Equal(TimeSpan.FromMilliseconds(200), config.PollInterval);

        var beginning = ConfigLoader.Bind<OtlpJsonFileReceiverConfig>("include: [/data/*.json]\nstart_at: beginning\npoll_interval: 1s\nreplay_file: true\n");
        Assert.Equal(OtlpJsonFileStartAt.Beginning, beginning.StartAt);
        Assert.Equal(TimeSpan.FromSeconds(1), beginning.PollInterval);
        Assert.True(beginning.ReplayFile);
        Assert.Contains("include", Assert.Throws<ConfigException>(() => ConfigLoader.Bind<OtlpJsonFileReceiverConfig>("start_at: beginning\n")).Message);
    }

    [Fact]
    public void Debug_samples_bind_and_a_verbosity_typo_is_rejected()
    {
        var config = ConfigLoader.Bind<DebugExporterConfig>("verbosity: detailed\nsampling_initial: 5\nsampling_thereafter: 200\n");
        Assert.Equal(DebugVerbosity.Detailed, config.Verbosity);
        Assert.Equal(5, config.SamplingInitial);
        Assert.Equal(200, config.SamplingThereafter);
        Assert.Equal(DebugVerbosity.Basic, ConfigLoader.Bind<DebugExporterConfig>("").Verbosity);
        Assert.Contains("verbosity", Assert.Throws<ConfigException>(() => ConfigLoader.Bind<DebugExporterConfig>("verbosity: detailedd\n")).Message);
    }
}
