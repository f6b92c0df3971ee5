using OtelAi.TestSupport;
using System.Text;
using Microsoft.Extensions.Logging;
using OtelAi.Engine.Components;
using OtelAi.Engine.Extensions.FileStorage;
using OtelAi.Engine.Extensions.Storage;

namespace OtelAi.OtlpExporter.Tests;

public sealed class FileStorageTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("otelai-fs-").FullName;
    private readonly CapturingLogger _log = new();
    private static readonly ComponentId Owner = ComponentId.Parse("otlp/backend");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private async Task<FileStorageExtension> StartAsync(FileStorageConfig? config = null)
    {
        var extension = new FileStorageExtension(Settings.For("file_storage", ComponentKind.Extension, _log), config ?? new FileStorageConfig { Directory = _directory });
        await extension.StartAsync(new TestHost(), CancellationToken.None);
        return extension;
    }

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private string ClientFile => Path.Combine(_directory, "exporter_otlp_backend_traces");

    [Fact]
    public async Task Values_survive_a_restart_and_batches_apply_together()
    {
        var extension = await StartAsync();
        var client = await extension.GetClientAsync(ComponentKind.Exporter, Owner, "traces", CancellationToken.None);
        await client.SetAsync("a", Bytes("first"), CancellationToken.None);
        await client.SetAsync("a", Bytes("second"), CancellationToken.None);
        await client.SetAsync("gone", Bytes("x"), CancellationToken.None);
        var get = StorageOperation.Get("a");
        await client.BatchAsync([StorageOperation.Set("b", new byte[100_000]), StorageOperation.Delete("gone"), get], CancellationToken.None);
        Assert.Equal("second", Encoding.UTF8.GetString(get.Value!));
        await extension.ShutdownAsync(CancellationToken.None);
        Assert.True(File.Exists(ClientFile));

        extension = await StartAsync();
        client = await extension.GetClientAsync(ComponentKind.Exporter, Owner, "traces", CancellationToken.None);
        Assert.Equal("second", Encoding.UTF8.GetString((await client.GetAsync("a", CancellationToken.None))!));
        Assert.Equal(100_000, (await client.GetAsync("b", CancellationToken.None))!.Length);
        Assert.Null(await client.GetAsync("gone", CancellationToken.None));
        await extension.ShutdownAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_torn_last_write_is_cut_off_with_a_warning()
    {
        var extension = await StartAsync();
        var client = await extension.GetClientAsync(ComponentKind.Exporter, Owner, "traces", CancellationToken.None);
        await client.SetAsync("kept", Bytes("yes"), CancellationToken.None);
        await client.SetAsync("torn", new byte[1000], CancellationToken.None);
        await extension.ShutdownAsync(CancellationToken.None);
        using (var file = File.OpenWrite(ClientFile)) file.SetLength(file.Length - 10); // crash in the middle of the last write

        extension = await StartAsync();
        client = await extension.GetClientAsync(ComponentKind.Exporter, Owner, "traces", CancellationToken.None);
        Assert.Equal("yes", Encoding.UTF8.GetString((await client.GetAsync("kept", CancellationToken.None))!));
        Assert.Null(await client.GetAsync("torn", CancellationToken.None));
        Assert.True(_log.Contains(LogLevel.Warning, "cut short"));
        await client.SetAsync("after", Bytes("ok"), CancellationToken.None);
        await extension.ShutdownAsync(CancellationToken.None);

        extension = await StartAsync();
        client = await extension.GetClientAsync(ComponentKind.Exporter, Owner, "traces", CancellationToken.None);
        Assert.Equal("ok", Encoding.UTF8.GetString((await client.GetAsync("after", CancellationToken.None))!));
        await extension.ShutdownAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_corrupt_record_quarantines_the_file_and_keeps_the_good_prefix()
    {
        var extension = await StartAsync();
        var client = await extension.GetClientAsync(ComponentKind.Exporter, Owner, "traces", CancellationToken.None);
        await client.SetAsync("one", Bytes("1111111111"), CancellationToken.None);
        var sizeAfterOne = new FileInfo(ClientFile).Length;
        await client.SetAsync("two", Bytes("2222222222"), CancellationToken.None);
        await client.SetAsync("three", Bytes("3333333333"), CancellationToken.None);
        await extension.ShutdownAsync(CancellationToken.None);
        var bytes = File.ReadAllBytes(ClientFile);
        bytes[sizeAfterOne + 20] ^= 0xFF; // flip a byte inside record "two"
        File.WriteAllBytes(ClientFile, bytes);

        extension = await StartAsync();
        client = await extension.GetClientAsync(ComponentKind.Exporter, Owner, "traces", CancellationToken.None);
        Assert.Equal("1111111111", Encoding.UTF8.GetString((await client.GetAsync("one", CancellationToken.None))!));
        Assert.Null(await client.GetAsync("two", CancellationToken.None));
        Assert.True(_log.Contains(LogLevel.Error, "fails its checksum"));
        Assert.Single(Directory.GetFiles(_directory, "exporter_otlp_backend_traces.corrupt-*"));
        await client.SetAsync("four", Bytes("4"), CancellationToken.None);
        await extension.ShutdownAsync(CancellationToken.None);

        extension = await StartAsync();
        client = await extension.GetClientAsync(ComponentKind.Exporter, Owner, "traces", CancellationToken.None);
        Assert.Equal("4", Encoding.UTF8.GetString((await client.GetAsync("four", CancellationToken.None))!));
        await extension.ShutdownAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_foreign_file_is_quarantined_and_storage_starts_empty()
    {
        File.WriteAllText(ClientFile, "this is not ours");
        var extension = await StartAsync();
        var client = await extension.GetClientAsync(ComponentKind.Exporter, Owner, "traces", CancellationToken.None);
        Assert.Null(await client.GetAsync("anything", CancellationToken.None));
        Assert.True(_log.Contains(LogLevel.Error, "does not start with the file storage header"));
        await client.SetAsync("k", Bytes("v"), CancellationToken.None);
        await extension.ShutdownAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Compaction_on_start_shrinks_the_file_and_keeps_live_entries()
    {
        var extension = await StartAsync();
        var client = await extension.GetClientAsync(ComponentKind.Exporter, Owner, "traces", CancellationToken.None);
        for (var i = 0; i < 200; i++) await client.SetAsync($"k{i % 10}", new byte[1000], CancellationToken.None);
        await client.SetAsync("k0", Bytes("latest"), CancellationToken.None);
        await extension.ShutdownAsync(CancellationToken.None);
        var before = new FileInfo(ClientFile).Length;

        extension = await StartAsync(new FileStorageConfig { Directory = _directory, Compaction = new FileStorageCompactionConfig { OnStart = true } });
        client = await extension.GetClientAsync(ComponentKind.Exporter, Owner, "traces", CancellationToken.None);
        var after = new FileInfo(ClientFile).Length;
        Assert.True(after < before / 10, $"compacted {before} → {after} bytes");
        Assert.Equal("latest", Encoding.UTF8.GetString((await client.GetAsync("k0", CancellationToken.None))!));
        Assert.Equal(1000, (await client.GetAsync("k9", CancellationToken.None))!.Length);
        await client.SetAsync("k1", Bytes("new"), CancellationToken.None);
        await extension.ShutdownAsync(CancellationToken.None);

        extension = await StartAsync();
        client = await extension.GetClientAsync(ComponentKind.Exporter, Owner, "traces", CancellationToken.None);
        Assert.Equal("new", Encoding.UTF8.GetString((await client.GetAsync("k1", CancellationToken.None))!));
        await extension.ShutdownAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Rebound_compaction_runs_once_the_data_shrinks()
    {
        var config = new FileStorageConfig
        {
            Directory = _directory,
            Compaction = new FileStorageCompactionConfig { OnRebound = true, ReboundNeededThresholdMib = 1, ReboundTriggerThresholdMib = 1, CheckInterval = TimeSpan.FromMilliseconds(50) },
        };
        var extension = await StartAsync(config);
        var client = await extension.GetClientAsync(ComponentKind.Exporter, Owner, "traces", CancellationToken.None);
        for (var i = 0; i < 3; i++) await client.SetAsync($"big{i}", new byte[1024 * 1024], CancellationToken.None);
        await Poll.UntilAsync(() => new FileInfo(ClientFile).Length > 3 * 1024 * 1024, "the file to grow");
        for (var i = 0; i < 3; i++) await client.DeleteAsync($"big{i}", CancellationToken.None);

        await Poll.UntilAsync(() => new FileInfo(ClientFile).Length < 1024, "rebound compaction");
        Assert.True(_log.Contains(LogLevel.Information, "compacted"));
        await extension.ShutdownAsync(CancellationToken.None);
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task Missing_directory_is_a_config_error_unless_create_directory()
    {
        var missing = Path.Combine(_directory, "a", "b");
        var errors = new FileStorageConfig { Directory = missing }.Validate().ToList();
        Assert.Contains(errors, e => e.Path == "directory" && e.Message.Contains("does not exist"));
        Assert.Empty(new FileStorageConfig { Directory = missing, CreateDirectory = true }.Validate());

        var extension = await StartAsync(new FileStorageConfig { Directory = missing, CreateDirectory = true });
        Assert.True(Directory.Exists(missing));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute,
            File.GetUnixFileMode(missing));
        await extension.ShutdownAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_second_client_for_the_same_component_is_refused()
    {
        var extension = await StartAsync();
        await extension.GetClientAsync(ComponentKind.Exporter, Owner, "traces", CancellationToken.None);
        await Assert.ThrowsAsync<InvalidOperationException>(() => extension.GetClientAsync(ComponentKind.Exporter, Owner, "traces", CancellationToken.None).AsTask());
        var other = await extension.GetClientAsync(ComponentKind.Exporter, Owner, "logs", CancellationToken.None);
        Assert.NotNull(other);
        Assert.Equal("receiver_filelog_a~2Fb_x", FileStorageExtension.ClientFileName(ComponentKind.Receiver, new ComponentId("filelog", "a/b"), "x"));
        await extension.ShutdownAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Disk_full_is_an_io_error_and_the_file_stays_usable()
    {
        // A 64 KiB tmpfs is a real full disk; mounting needs root, which the CI machine has.
        var mountPoint = Path.Combine(_directory, "small");
        Directory.CreateDirectory(mountPoint);
        if (!RunMount($"-t tmpfs -o size=64k tmpfs {mountPoint}"))
            throw new InvalidOperationException("could not mount a tmpfs (the test needs root)");
        try
        {
            var extension = await StartAsync(new FileStorageConfig { Directory = mountPoint });
            var client = await extension.GetClientAsync(ComponentKind.Exporter, Owner, "traces", CancellationToken.None);
            await client.SetAsync("small", Bytes("fits"), CancellationToken.None);
            var error = await Assert.ThrowsAsync<IOException>(() => client.SetAsync("huge", new byte[256 * 1024], CancellationToken.None).AsTask());
            Assert.Contains("space", error.Message, StringComparison.OrdinalIgnoreCase);
            await client.SetAsync("after", Bytes("still works"), CancellationToken.None);
            await extension.ShutdownAsync(CancellationToken.None);

            extension = await StartAsync(new FileStorageConfig { Directory = mountPoint });
            client = await extension.GetClientAsync(ComponentKind.Exporter, Owner, "traces", CancellationToken.None);
            Assert.Equal("fits", Encoding.UTF8.GetString((await client.GetAsync("small", CancellationToken.None))!));
            Assert.Equal("still works", Encoding.UTF8.GetString((await client.GetAsync("after", CancellationToken.None))!));
            Assert.Null(await client.GetAsync("huge", CancellationToken.None));
            await extension.ShutdownAsync(CancellationToken.None);
        }
        finally
        {
            RunMount(mountPoint, "umount");
        }
    }

    internal static bool RunMount(string arguments, string command = "mount")
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(command, arguments) { RedirectStandardError = true })!;
        process.WaitForExit();
        return process.ExitCode == 0;
    }
}
