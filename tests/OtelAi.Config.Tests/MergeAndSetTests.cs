using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Otlp;

namespace OtelAi.Config.Tests;

public class MergeAndSetTests
{
    private const string Base = """
        receivers:
          otlp:
            protocols:
              grpc:
                endpoint: 0.0.0.0:4317
              http:
        processors:
          batch:
            send_batch_size: 100
            timeout: 1s
        exporters:
          debug:
          file:
            path: /tmp/a.json
        service:
          pipelines:
            traces:
              receivers: [otlp]
              processors: [batch]
              exporters: [debug, file]
        """;

    private const string Overlay = """
        receivers:
          otlp:
            protocols:
              grpc:
                max_recv_msg_size_mib: 16
        processors:
          batch:
            timeout: 5s
        service:
          pipelines:
            traces:
              exporters: [file]
        """;

    private static LoadedConfig LoadBoth(IReadOnlyList<string>? sets = null) =>
        ConfigLoader.Load([new ConfigSource("base.yaml", Base), new ConfigSource("overlay.yaml", Overlay)], TestRegistry.Create(), sets, _ => null);

    [Fact]
    public void MapsMergeDeeplyAndLaterSourcesWin()
    {
        var config = LoadBoth().Config;
        var otlp = (OtlpReceiverTestConfig)config.Receivers[new ComponentId("otlp")];
        Assert.Equal("0.0.0.0:4317", otlp.Protocols.Grpc!.Endpoint);
        Assert.Equal(16, otlp.Protocols.Grpc.MaxRecvMsgSizeMiB);
        Assert.NotNull(otlp.Protocols.Http);
        var batch = (BatchTestConfig)config.Processors[new ComponentId("batch")];
        Assert.Equal(100, batch.SendBatchSize);
        Assert.Equal(TimeSpan.FromSeconds(5), batch.Timeout);
    }

    [Fact]
    public void ListsAreReplacedNotAppended()
    {
        var traces = LoadBoth().Config.Pipelines[new PipelineId(Signal.Traces)];
        Assert.Equal([new ComponentId("file")], traces.Exporters);
        Assert.Equal([new ComponentId("otlp")], traces.Receivers);
    }

    [Fact]
    public void SourceMapPointsIntoTheFileThatSetTheValue()
    {
        var source = LoadBoth().Config.Source;
        Assert.Equal(new SourceLocation("overlay.yaml", 8, 5), source.Locate("processors.batch.timeout"));
        Assert.Equal(new SourceLocation("base.yaml", 9, 5), source.Locate("processors.batch.send_batch_size"));
        Assert.Equal(new SourceLocation("overlay.yaml", 12, 19), source.Locate("service.pipelines.traces.exporters[0]"));
    }

    [Fact]
    public void SetOverridesWinOverEveryFile()
    {
        var config = LoadBoth(["processors.batch.timeout=2s", "receivers::otlp::protocols::grpc::endpoint=localhost:5317",
            "service.pipelines.traces.exporters=[debug, file]"]).Config;
        Assert.Equal(TimeSpan.FromSeconds(2), ((BatchTestConfig)config.Processors[new ComponentId("batch")]).Timeout);
        Assert.Equal("localhost:5317", ((OtlpReceiverTestConfig)config.Receivers[new ComponentId("otlp")]).Protocols.Grpc!.Endpoint);
        Assert.Equal([new ComponentId("debug"), new ComponentId("file")], config.Pipelines[new PipelineId(Signal.Traces)].Exporters);
        Assert.Equal(new SourceLocation("--set", 1, 18), config.Source.Locate("processors.batch.timeout"));
        Assert.Equal(new SourceLocation("--set", 1, 35), config.Source.Locate("receivers.otlp.protocols.grpc.endpoint"));
    }

    [Fact]
    public void SetValueIsTypedAndCheckedLikeYaml()
    {
        var error = TestLoad.SingleError("processors:\n  batch:\n", sets: ["processors.batch.send_batch_size=lots"]);
        Assert.Equal("processors.batch.send_batch_size", error.KeyPath);
        Assert.Equal(new SourceLocation("--set", 1, 34), error.Location);
        Assert.Equal("expected an integer, got \"lots\"", error.Message);
    }

    [Fact]
    public void SetCanAddAComponent()
    {
        var config = TestLoad.Yaml("exporters:\n  debug:\n", sets: ["exporters.file/out.path=/var/out.json"]).Config;
        Assert.Equal("/var/out.json", ((FileTestConfig)config.Exporters[new ComponentId("file", "out")]).Path);
    }

    [Fact]
    public void NullInALaterSourceReplacesAMap()
    {
        var config = ConfigLoader.Load(
            [new ConfigSource("a.yaml", "processors:\n  batch:\n    timeout: 9s\n"), new ConfigSource("b.yaml", "processors:\n  batch:\n")],
            TestRegistry.Create()).Config;
        Assert.Equal(TimeSpan.FromMilliseconds(200), ((BatchTestConfig)config.Processors[new ComponentId("batch")]).Timeout);
    }

    [Fact]
    public void LoadFilesReadsAndMergesFilesInOrder()
    {
        var directory = Directory.CreateTempSubdirectory("otelai-config-");
        try
        {
            var first = Path.Combine(directory.FullName, "first.yaml");
            var second = Path.Combine(directory.FullName, "second.yaml");
            File.WriteAllText(first, Base);
            File.WriteAllText(second, Overlay);
            var config = ConfigLoader.LoadFiles([first, second], TestRegistry.Create(), ["exporters.file.path=/x"]).Config;
            Assert.Equal("/x", ((FileTestConfig)config.Exporters[new ComponentId("file")]).Path);
            Assert.Equal(new SourceLocation(second, 5, 9), config.Source.Locate("receivers.otlp.protocols.grpc.max_recv_msg_size_mib"));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void YamlAnchorsAndMergeKeysWork()
    {
        var config = TestLoad.Yaml("""
            processors:
              batch/a: &batch-defaults
                send_batch_size: 512
                timeout: 2s
              batch/b:
                <<: *batch-defaults
                timeout: 3s
              batch/c: *batch-defaults
            """).Config;
        var b = (BatchTestConfig)config.Processors[new ComponentId("batch", "b")];
        Assert.Equal((512, TimeSpan.FromSeconds(3)), (b.SendBatchSize, b.Timeout));
        var c = (BatchTestConfig)config.Processors[new ComponentId("batch", "c")];
        Assert.Equal((512, TimeSpan.FromSeconds(2)), (c.SendBatchSize, c.Timeout));
    }

    [Fact]
    public void SecondYamlDocumentIsAnError()
    {
        var error = TestLoad.SingleError("processors:\n  batch:\n---\nexporters:\n  debug:\n");
        Assert.Equal(TestLoad.At(4, 1), error.Location);
        Assert.StartsWith("a config holds one YAML document", error.Message);
    }
}
