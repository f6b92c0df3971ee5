using System.Text.RegularExpressions;
using OtelAi.Cli;
using OtelAi.Engine.Config;
using OtelAi.TestSupport;

namespace OtelAi.Engine.Tests;

/// <summary>
/// config-samples/docker, checked statically (no Docker engine runs here): small bases and named stages, the publish
/// command builds the otelai project as Native AOT, every file copied out of the build stage exists in a publish
/// output, every file copied from the repository exists, non-root where the mode allows, the exposed ports and the
/// HEALTHCHECK agree with the config the image carries, and that config validates.
/// </summary>
[Trait(OtelaiProcess.Trait, OtelaiProcess.Executable)]
public sealed partial class ContainerRecipeTests
{
    public static TheoryData<string, string, bool> Recipes => new()
    {
        { "Dockerfile.gateway", "gateway.yaml", true },
        { "Dockerfile.sidecar", "sidecar.yaml", true },
        { "Dockerfile.ebpf-agent", "ebpf-agent.yaml", false },
    };

    [Theory]
    [MemberData(nameof(Recipes))]
    public async Task Dockerfile_builds_from_real_paths_and_agrees_with_its_config(string dockerfile, string config, bool nonRoot)
    {
        var instructions = Instructions(await File.ReadAllTextAsync(RepositoryPaths.Combine("config-samples", "docker", dockerfile)));
        var froms = instructions.Where(i => i.Command == "FROM").Select(i => i.Arguments).ToList();
        Assert.Equal(2, froms.Count);
        Assert.Matches(@"^mcr\.microsoft\.com/dotnet/sdk:10\.0\S* AS build$", froms[0]);
        Assert.Matches(nonRoot ? @"^mcr\.microsoft\.com/dotnet/runtime-deps:10\.0-\S*chiseled AS runtime$" : @"^mcr\.microsoft\.com/dotnet/runtime-deps:10\.0\S* AS runtime$", froms[1]);

        var publish = Assert.Single(instructions, i => i.Command == "RUN" && i.Arguments.Contains("dotnet publish", StringComparison.Ordinal)).Arguments;
        var project = Regex.Match(publish, @"dotnet publish (\S+)").Groups[1].Value;
        Assert.True(File.Exists(RepositoryPaths.Combine(project.Split('/'))), $"{dockerfile} publishes {project}, which does not exist");
        Assert.Contains("-p:PublishAot=true", publish);
        Assert.Contains("-o /out", publish);

        // What the runtime stage takes from /out exists in a publish output of that project: the AOT one this test
        // command built (OTELAI_EXECUTABLE), else the framework-dependent build beside the tests (same file layout).
        var executable = Environment.GetEnvironmentVariable("OTELAI_EXECUTABLE");
        var publishOutput = string.IsNullOrEmpty(executable) ? AppContext.BaseDirectory : Path.GetDirectoryName(executable)!;
        var runtime = instructions.SkipWhile(i => i.Command != "FROM" || !i.Arguments.EndsWith("AS runtime", StringComparison.Ordinal)).ToList();
        foreach (var copy in runtime.Where(i => i.Command == "COPY"))
        {
            var parts = copy.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(p => !p.StartsWith("--chown", StringComparison.Ordinal)).ToList();
            var fromBuild = parts[0] == "--from=build";
            var source = parts[fromBuild ? 1 : 0];
            if (fromBuild && source.StartsWith("/out/", StringComparison.Ordinal))
                Assert.True(File.Exists(Path.Combine(publishOutput, source["/out/".Length..])), $"{dockerfile} copies {source}, which a publish output does not have ({publishOutput})");
            else if (!fromBuild)
                Assert.True(File.Exists(RepositoryPaths.Combine(source.Split('/'))), $"{dockerfile} copies {source} from the repository, which does not exist");
        }
        Assert.Contains(runtime, i => i.Command == "COPY" && i.Arguments == $"config-samples/{config} /etc/otelai/config.yaml");
        Assert.Contains(runtime, i => i.Command == "CMD" && i.Arguments == "[\"--config\", \"/etc/otelai/config.yaml\"]");
        var user = runtime.LastOrDefault(i => i.Command == "USER")?.Arguments;
        if (nonRoot) Assert.True(user is not null and not "root" and not "0", $"{dockerfile} runs as root");

        // The ports and health check agree with the config the image carries, which validates.
        var loaded = ConfigLoader.LoadFiles([RepositoryPaths.Combine("config-samples", config)], BuiltinComponents.CreateRegistry());
        var yaml = loaded.ToYaml(redacted: false);
        var configPorts = EndpointPort().Matches(yaml).Select(m => int.Parse(m.Groups[1].Value)).ToHashSet();
        var exposed = runtime.Where(i => i.Command == "EXPOSE").SelectMany(i => i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Select(int.Parse).ToList();
        Assert.NotEmpty(exposed);
        foreach (var port in exposed.Where(p => p != 8888)) Assert.Contains(port, configPorts);
        var healthcheck = Assert.Single(runtime, i => i.Command == "HEALTHCHECK").Arguments;
        var healthPort = int.Parse(Regex.Match(healthcheck, @"""localhost:(\d+)""").Groups[1].Value);
        Assert.Contains("\"health\"", healthcheck);
        var healthEndpoint = Regex.Match(yaml, @"health_check:\s*\n\s*endpoint: (\S+)");
        Assert.True(healthEndpoint.Success, $"{config} has no health_check for the HEALTHCHECK to ask");
        Assert.EndsWith($":{healthPort}", healthEndpoint.Groups[1].Value);
        Assert.Contains(healthPort, exposed);
    }

    [Fact]
    public async Task Health_command_exits_0_while_the_collector_is_healthy_and_1_when_it_is_gone()
    {
        var port = TestPorts.GetFree();
        var collector = Collector.FromYaml($"""
            receivers:
              otlp:
                protocols:
                  http:
                    endpoint: 127.0.0.1:0
            exporters:
              debug:
            extensions:
              health_check:
                endpoint: 127.0.0.1:{port}
            service:
              extensions: [health_check]
              telemetry:
                metrics:
                  level: none
              pipelines:
                traces:
                  receivers: [otlp]
                  exporters: [debug]
            """, BuiltinComponents.CreateRegistry(), Harness.QuietOptions);
        await collector.StartAsync();
        var healthy = OtelaiProcess.Start("health", "--endpoint", $"127.0.0.1:{port}");
        var (healthyCode, healthyError) = await healthy.WaitForExitAsync();
        Assert.True(healthyCode == 0, healthyError + healthy.Stdout);
        Assert.Contains("healthy", healthy.Stdout);
        await collector.DisposeAsync();
        var gone = OtelaiProcess.Start("health", "--endpoint", $"127.0.0.1:{port}", "--timeout", "2s");
        var (goneCode, goneError) = await gone.WaitForExitAsync();
        Assert.Equal(1, goneCode);
        Assert.Contains($"127.0.0.1:{port}", goneError);
    }

    private sealed record Instruction(string Command, string Arguments);

    /// <summary>Instructions with continuation lines joined and comments dropped.</summary>
    private static List<Instruction> Instructions(string dockerfile)
    {
        var joined = Regex.Replace(dockerfile, @"\\\r?\n\s*", " ");
        return [.. joined.Split('\n')
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split(' ', 2))
            .Select(p => new Instruction(p[0].ToUpperInvariant(), p.Length > 1 ? Regex.Replace(p[1].Trim(), @"\s+", " ") : ""))];
    }

    [GeneratedRegex(@"endpoint: \S*?:(\d+)\b")]
    private static partial Regex EndpointPort();
}
