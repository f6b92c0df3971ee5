using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Resource.V1;
using OtelAi.Receivers.Ebpf;

namespace OtelAi.Ebpf.Tests;

/// <summary>/proc enrichment, route templates and the capability check.</summary>
public sealed class EnrichmentTests
{
    [Fact]
    public void Reads_process_details_container_id_model_and_service_name_from_proc()
    {
        var proc = Directory.CreateTempSubdirectory("otelai-proc-");
        try
        {
            var dir = Directory.CreateDirectory(Path.Combine(proc.FullName, "4242")).FullName;
            File.WriteAllText(Path.Combine(dir, "cmdline"), "/opt/venv/bin/python3\0-m\0vllm.entrypoints.api_server\0--model=meta-llama/Llama-3-8B\0--port\08000\0");
            File.WriteAllText(Path.Combine(dir, "comm"), "python3\n");
            File.WriteAllText(Path.Combine(dir, "cgroup"), "0::/kubepods/besteffort/pod1/cri-containerd-" + new string('a', 64) + ".scope\n");
            File.WriteAllText(Path.Combine(dir, "environ"), "PATH=/usr/bin\0OTEL_SERVICE_NAME=vllm-frontend\0");
            var cache = new ProcessInfoCache(capacity: 2, procRoot: proc.FullName);

            var info = cache.Get(4242);
            var resource = new Resource();
            info.AddResourceAttributes(resource.Attributes);

            Assert.Equal("meta-llama/Llama-3-8B", info.Model);
            Assert.Equal("vllm-frontend", resource.Attributes.Get("service.name")!.StringValue);
            Assert.Equal("python3", resource.Attributes.Get("process.executable.name")!.StringValue);
            Assert.Equal(new string('a', 64), resource.Attributes.Get("container.id")!.StringValue);
            Assert.StartsWith("/opt/venv/bin/python3 -m vllm", resource.Attributes.Get("process.command_line")!.StringValue);

            Directory.Delete(dir, recursive: true); // cached: still answered after the process is gone
            Assert.Same(info, cache.Get(4242));
            cache.Get(1);
            cache.Get(2); // capacity 2: 4242 is evicted and read again (now without /proc details)
            Assert.Null(cache.Get(4242).ExecutableName);
        }
        finally
        {
            proc.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData(new[] { "tgi", "--model-id", "bigscience/bloom" }, "bigscience/bloom")]
    [InlineData(new[] { "server", "--model", "m" }, "m")]
    [InlineData(new[] { "server", "--model-id=x/y" }, "x/y")]
    [InlineData(new[] { "server", "--models", "a" }, null)]
    public void Finds_the_served_model_in_the_command_line(string[] arguments, string? model) =>
        Assert.Equal(model, ProcessInfoCache.ModelFrom(arguments));

    [Fact]
    public void Route_templates_match_whole_segments()
    {
        var routes = new RouteTemplates(["/v1/models/{model}/infer", "/health"]);
        Assert.Equal("/v1/models/{model}/infer", routes.Match("/v1/models/llama/infer"));
        Assert.Null(routes.Match("/v1/models/a/b/infer"));
        Assert.Equal("/health", routes.Match("/health/"));
        Assert.Null(routes.Match("/healthz"));
    }

    [Fact]
    public void Remembered_route_answers_stay_right_past_the_bound_of_remembered_paths()
    {
        var routes = new RouteTemplates(["/v1/models/{model}/infer"]);
        for (var round = 0; round < 2; round++)
            for (var i = 0; i < 5000; i++)
            {
                Assert.Equal("/v1/models/{model}/infer", routes.Match($"/v1/models/m{i}/infer"));
                Assert.Null(routes.Match($"/v1/models/m{i}/other"));
            }
    }

    [Theory]
    [InlineData(0UL, true, "CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN)")]
    [InlineData(1UL << Capabilities.Bpf, true, "CAP_PERFMON (or CAP_SYS_ADMIN)")]
    [InlineData((1UL << Capabilities.Bpf) | (1UL << Capabilities.Perfmon), true, null)]
    [InlineData(1UL << Capabilities.SysAdmin, true, null)]
    public void Names_the_missing_capabilities(ulong effective, bool perf, string? missing) =>
        Assert.Equal(missing, Capabilities.Missing(effective, perf));

    [Fact]
    public void Reads_the_effective_capability_mask()
    {
        Assert.Equal(0x000001ffffffffffUL, Capabilities.Effective("Name:\tx\nCapInh:\t0000000000000000\nCapEff:\t000001ffffffffff\n"));
    }
}
