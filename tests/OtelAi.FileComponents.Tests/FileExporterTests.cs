using OtelAi.Engine.Config;
using System.Buffers.Binary;
using System.IO.Compression;
using Google.Protobuf;
using OtelAi.Engine.Components;
using OtelAi.Otlp.Json;
using OtelAi.Exporters.FileOutput;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.TestSupport;

namespace OtelAi.FileComponents.Tests;

public sealed class FileExporterTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly FileExporterFactory _factory = new();

    public void Dispose() => _dir.Dispose();

    private IExporter<T> Create<T>(FileExporterConfig config, ComponentCreateSettings? settings = null) where T : class, IMessage<T>, new()
    {
        Assert.Empty(ConfigValidation.Validate(config));
        return _factory.CreateExporter<T>(settings ?? TestSettings.For(new ComponentId("file"), ComponentKind.Exporter), config);
    }

    /// <summary>Decodes a JSON-lines file back into requests, by each line's signal.</summary>
    private static List<IMessage> ReadJsonLines(Stream stream)
    {
        using var reader = new StreamReader(stream);
        var result = new List<IMessage>();
        while (reader.ReadLine() is { } line)
        {
            if (line.StartsWith("{\"resourceSpans\"", StringComparison.Ordinal)) result.Add(OtlpJson.Parse<ExportTraceServiceRequest>(line));
            else if (line.StartsWith("{\"resourceMetrics\"", StringComparison.Ordinal)) result.Add(OtlpJson.Parse<ExportMetricsServiceRequest>(line));
            else result.Add(OtlpJson.Parse<ExportLogsServiceRequest>(line));
        }
        return result;
    }

    [Fact]
    public async Task Every_signal_of_one_exporter_appends_json_lines_to_the_same_file()
    {
        var path = _dir.File("out.jsonl");
        await File.WriteAllTextAsync(path, "stale content from a previous run\n");
        var config = new FileExporterConfig { Path = path };
        var settings = TestSettings.For(new ComponentId("file"), ComponentKind.Exporter);
        var traces = Create<ExportTraceServiceRequest>(config, settings);
        var metrics = Create<ExportMetricsServiceRequest>(config, settings);
        var logs = Create<ExportLogsServiceRequest>(config, settings);
        foreach (var c in new IComponent[] { traces, metrics, logs }) await c.StartAsync(new TestHost(), CancellationToken.None);

        var sent = new List<IMessage> { SampleData.Traces(4), SampleData.Metrics(5), SampleData.Logs(6), SampleData.Traces(1, "second") };
        await traces.ConsumeAsync((ExportTraceServiceRequest)sent[0], CancellationToken.None);
        await metrics.ConsumeAsync((ExportMetricsServiceRequest)sent[1], CancellationToken.None);
        await logs.ConsumeAsync((ExportLogsServiceRequest)sent[2], CancellationToken.None);
        await traces.ConsumeAsync((ExportTraceServiceRequest)sent[3], CancellationToken.None);
        await traces.ShutdownAsync(CancellationToken.None);
        await metrics.ShutdownAsync(CancellationToken.None);
        // The file stays open until its last user shuts down; then it is flushed and closed.
        await logs.ShutdownAsync(CancellationToken.None);

        await using var file = File.OpenRead(path);
        Assert.Equal(sent, ReadJsonLines(file));
        Assert.Equal(5, settings.Metrics.Read("otelcol_exporter_sent_spans", ("exporter", "file")));
        Assert.Equal(6, settings.Metrics.Read("otelcol_exporter_sent_log_records", ("exporter", "file")));
    }

    [Fact]
    public async Task Append_keeps_existing_content()
    {
        var path = _dir.File("append.jsonl");
        var earlier = SampleData.Logs(1, "earlier");
        await File.WriteAllTextAsync(path, OtlpJson.ToJson(earlier) + "\n");
        var exporter = Create<ExportLogsServiceRequest>(new FileExporterConfig { Path = path, Append = true });
        await exporter.StartAsync(new TestHost(), CancellationToken.None);
        await exporter.ConsumeAsync(SampleData.Logs(2, "later"), CancellationToken.None);
        await exporter.ShutdownAsync(CancellationToken.None);
        await using var file = File.OpenRead(path);
        Assert.Equal(new IMessage[] { earlier, SampleData.Logs(2, "later") }, ReadJsonLines(file));
    }

    [Fact]
    public async Task Proto_format_writes_length_prefixed_messages()
    {
        var path = _dir.File("out.pb");
        var exporter = Create<ExportMetricsServiceRequest>(new FileExporterConfig { Path = path, Format = FileExportFormat.Proto });
        await exporter.StartAsync(new TestHost(), CancellationToken.None);
        var sent = new[] { SampleData.Metrics(3), SampleData.Metrics(9, "other") };
        foreach (var m in sent) await exporter.ConsumeAsync(m, CancellationToken.None);
        await exporter.ShutdownAsync(CancellationToken.None);

        var bytes = await File.ReadAllBytesAsync(path);
        var decoded = new List<ExportMetricsServiceRequest>();
        for (var offset = 0; offset < bytes.Length;)
        {
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(offset));
            decoded.Add(ExportMetricsServiceRequest.Parser.ParseFrom(bytes, offset + 4, length));
            offset += 4 + length;
        }
        Assert.Equal(sent, decoded);
    }

    [Fact]
    public async Task Gzip_compression_writes_one_gzip_stream_of_json_lines()
    {
        var path = _dir.File("out.jsonl.gz");
        var exporter = Create<ExportTraceServiceRequest>(new FileExporterConfig { Path = path, Compression = "gzip" });
        await exporter.StartAsync(new TestHost(), CancellationToken.None);
        var sent = Enumerable.Range(0, 20).Select(i => SampleData.Traces(10, seed: i)).ToList();
        foreach (var t in sent) await exporter.ConsumeAsync(t, CancellationToken.None);
        await exporter.ShutdownAsync(CancellationToken.None);

        await using var file = File.OpenRead(path);
        Assert.Equal(0x1f, file.ReadByte()); // gzip magic
        file.Position = 0;
        await using var gunzip = new GZipStream(file, CompressionMode.Decompress);
        Assert.Equal(sent.Cast<IMessage>(), ReadJsonLines(gunzip));
        Assert.True(new FileInfo(path).Length < sent.Sum(t => OtlpJson.ToUtf8Bytes(t).Length) / 3);
    }

    [Fact]
    public async Task Buffered_lines_reach_the_file_within_the_flush_interval()
    {
        var path = _dir.File("flush.jsonl");
        var exporter = Create<ExportLogsServiceRequest>(new FileExporterConfig { Path = path, FlushInterval = TimeSpan.FromMilliseconds(50) });
        await exporter.StartAsync(new TestHost(), CancellationToken.None);
        var logs = SampleData.Logs(3);
        await exporter.ConsumeAsync(logs, CancellationToken.None);
        await Eventually.True(() => ReadShared(path).EndsWith('\n'), "the flushed line");
        Assert.Equal(logs, OtlpJson.Parse<ExportLogsServiceRequest>(ReadShared(path).TrimEnd('\n')));
        await exporter.ShutdownAsync(CancellationToken.None);
    }

    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        return new StreamReader(stream).ReadToEnd();
    }

    [Fact]
    public async Task Rotation_by_size_renames_to_timestamped_backups_and_loses_nothing()
    {
        var path = _dir.File("rotating.jsonl");
        var exporter = Create<ExportTraceServiceRequest>(new FileExporterConfig { Path = path, Rotation = new FileRotationConfig { MaxMegabytes = 1, MaxBackups = 0 } });
        await exporter.StartAsync(new TestHost(), CancellationToken.None);
        var sent = Enumerable.Range(0, 120).Select(i => SampleData.Traces(40, seed: i)).ToList(); // ~3.4 MB of JSON
        foreach (var t in sent) await exporter.ConsumeAsync(t, CancellationToken.None);
        await exporter.ShutdownAsync(CancellationToken.None);

        var backups = Directory.GetFiles(_dir.Path, "rotating-*.jsonl").Order(StringComparer.Ordinal).ToList();
        Assert.True(backups.Count >= 2, $"expected at least 2 backups, found {backups.Count}");
        Assert.All(backups, b => Assert.Matches(@"rotating-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}(\.\d+)?\.jsonl$", b));
        Assert.All(backups, b => Assert.True(new FileInfo(b).Length <= 1024 * 1024));
        var all = new List<IMessage>();
        foreach (var file in backups.Append(path))
        {
            await using var stream = File.OpenRead(file);
            all.AddRange(ReadJsonLines(stream));
        }
        Assert.Equal(sent.Cast<IMessage>(), all);
    }

    [Fact]
    public async Task Rotation_keeps_at_most_max_backups()
    {
        var path = _dir.File("pruned.jsonl");
        var exporter = Create<ExportTraceServiceRequest>(new FileExporterConfig { Path = path, Rotation = new FileRotationConfig { MaxMegabytes = 1, MaxBackups = 1 } });
        await exporter.StartAsync(new TestHost(), CancellationToken.None);
        var sent = Enumerable.Range(0, 60).Select(i => SampleData.Traces(40, seed: i)).ToList();
        foreach (var t in sent) await exporter.ConsumeAsync(t, CancellationToken.None);
        await exporter.ShutdownAsync(CancellationToken.None);

        var backup = Assert.Single(Directory.GetFiles(_dir.Path, "pruned-*.jsonl"));
        // The newest data survives: the current file ends with the last request.
        await using var current = File.OpenRead(path);
        Assert.Equal(sent[^1], ReadJsonLines(current).Last());
        Assert.True(new FileInfo(backup).Length > 0);
    }

    [Theory]
    [InlineData("zstd", false, false, "compression", "zstd is not supported by otelai")]
    [InlineData("lz4", false, false, "compression", "unknown compression")]
    [InlineData("gzip", true, false, "append", "append and compression")]
    [InlineData("", true, true, "append", "append and rotation")]
    public void Invalid_combinations_are_rejected(string compression, bool append, bool rotation, string key, string message)
    {
        var config = new FileExporterConfig { Path = "x.json", Compression = compression, Append = append, Rotation = rotation ? new FileRotationConfig() : null };
        var error = Assert.Single(ConfigValidation.Validate(config));
        Assert.Equal(key, error.Path);
        Assert.Contains(message, error.Message);
        Assert.Contains(new FileExporterConfig().Validate(), e => e.Path == "path");
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Create_directory_makes_the_parent_directory()
    {
        var path = Path.Combine(_dir.Path, "nested", "deeper", "out.jsonl");
        var exporter = Create<ExportLogsServiceRequest>(new FileExporterConfig { Path = path, CreateDirectory = true, DirectoryPermissions = "0750" });
        await exporter.StartAsync(new TestHost(), CancellationToken.None);
        await exporter.ConsumeAsync(SampleData.Logs(1), CancellationToken.None);
        await exporter.ShutdownAsync(CancellationToken.None);
        Assert.True(File.Exists(path));
        // 0750 (minus the umask): the owner has full access, others none (the default 0755 would let them read).
        var mode = File.GetUnixFileMode(Path.GetDirectoryName(path)!);
        Assert.True(mode.HasFlag(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute));
        Assert.False(mode.HasFlag(UnixFileMode.OtherRead));
    }
}

public sealed class GroupingFileExporterTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static ExportLogsServiceRequest Logs(string? segment, int records)
    {
        var logs = SampleData.Logs(records, $"svc-{segment ?? "none"}");
        if (segment is not null) logs.ResourceLogs[0].Resource.Attributes.Add(SampleData.Attr("fileexporter.path_segment", segment));
        return logs;
    }

    private static List<ExportLogsServiceRequest> Read(string path) =>
        File.ReadAllLines(path).Select(OtlpJson.Parse<ExportLogsServiceRequest>).ToList();

    [Fact]
    public async Task Group_by_writes_each_resource_to_the_file_named_by_its_attribute()
    {
        var settings = TestSettings.For(new ComponentId("file", "grouped"), ComponentKind.Exporter);
        var config = new FileExporterConfig { Path = Path.Combine(_dir.Path, "out", "*.jsonl"), GroupBy = new FileGroupByConfig { Enabled = true, MaxOpenFiles = 1 } };
        Assert.Empty(ConfigValidation.Validate(config));
        var exporter = new FileExporterFactory().CreateExporter<ExportLogsServiceRequest>(settings, config);
        await exporter.StartAsync(new TestHost(), CancellationToken.None);

        var mixed = Logs("alpha", 2);
        mixed.ResourceLogs.Add(Logs("beta", 3).ResourceLogs);
        mixed.ResourceLogs.Add(Logs(null, 4).ResourceLogs);
        await exporter.ConsumeAsync(mixed, CancellationToken.None);
        // max_open_files: 1 closes alpha's file for beta; alpha is appended to, not truncated, when it returns.
        await exporter.ConsumeAsync(Logs("alpha", 5), CancellationToken.None);
        await exporter.ConsumeAsync(Logs("../../escape", 1), CancellationToken.None);
        await exporter.ShutdownAsync(CancellationToken.None);

        var alpha = Read(Path.Combine(_dir.Path, "out", "alpha.jsonl"));
        Assert.Equal([2, 5], alpha.Select(r => r.ResourceLogs[0].ScopeLogs[0].LogRecords.Count));
        Assert.Equal(Logs("beta", 3), Assert.Single(Read(Path.Combine(_dir.Path, "out", "beta.jsonl"))));
        // An attribute value cannot lead outside the configured directory.
        Assert.Single(Directory.GetFiles(Path.Combine(_dir.Path, "out"), "escape.jsonl", SearchOption.AllDirectories));
        Assert.Equal(4, settings.Metrics.Read("otelcol_exporter_send_failed_log_records", ("exporter", "file/grouped")));
        Assert.Equal(11, settings.Metrics.Read("otelcol_exporter_sent_log_records", ("exporter", "file/grouped")));
    }

    [Fact]
    public async Task A_value_that_cannot_name_a_file_drops_only_its_own_items()
    {
        var settings = TestSettings.For(new ComponentId("file", "tenants"), ComponentKind.Exporter);
        var config = new FileExporterConfig { Path = Path.Combine(_dir.Path, "tenants", "*.jsonl"), GroupBy = new FileGroupByConfig { Enabled = true } };
        var exporter = new FileExporterFactory().CreateExporter<ExportLogsServiceRequest>(settings, config);
        await exporter.StartAsync(new TestHost(), CancellationToken.None);

        var mixed = Logs("tenant-a", 2);
        mixed.ResourceLogs.Add(Logs("bad\0name", 3).ResourceLogs);
        mixed.ResourceLogs.Add(Logs(new string('x', 300), 4).ResourceLogs);
        mixed.ResourceLogs.Add(Logs("tenant-b", 5).ResourceLogs);
        await exporter.ConsumeAsync(mixed, CancellationToken.None);
        await exporter.ShutdownAsync(CancellationToken.None);

        Assert.Equal(2, Read(Path.Combine(_dir.Path, "tenants", "tenant-a.jsonl")).Single().ResourceLogs[0].ScopeLogs[0].LogRecords.Count);
        Assert.Equal(5, Read(Path.Combine(_dir.Path, "tenants", "tenant-b.jsonl")).Single().ResourceLogs[0].ScopeLogs[0].LogRecords.Count);
        Assert.Equal(["tenant-a.jsonl", "tenant-b.jsonl"], Directory.GetFiles(Path.Combine(_dir.Path, "tenants")).Select(Path.GetFileName).Order());
        Assert.Equal(7, settings.Metrics.Read("otelcol_exporter_send_failed_log_records", ("exporter", "file/tenants")));
        Assert.Equal(7, settings.Metrics.Read("otelcol_exporter_sent_log_records", ("exporter", "file/tenants")));
    }
}
