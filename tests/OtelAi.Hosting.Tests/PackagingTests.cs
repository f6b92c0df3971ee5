using OtelAi.TestSupport;

namespace OtelAi.Hosting.Tests;

/// <summary>
/// The artifacts as a user gets them: `dotnet pack` of the repository, the otelai tool installed from the package into
/// a tool path, and a new project that takes OtelAi.Hosting from the local package folder (not a project reference),
/// embeds a collector and feeds it from the SDK.
/// </summary>
public sealed class PackagingTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"otelai-packaging-{Guid.NewGuid():N}");

    // A version of this run's own: NuGet's package cache never serves an older build under it.
    private readonly string _version = $"1.0.0-test.{DateTime.UtcNow:yyyyMMddHHmmss}.{Random.Shared.Next(100000)}";

    private static readonly string[] PackageIds = ["otelai", "OtelAi.Otlp", "OtelAi.Engine", "OtelAi.Receivers", "OtelAi.Processors", "OtelAi.Exporters", "OtelAi.Hosting"];

    public void Dispose()
    {
        // This run's packages leave the machine's package cache too (each run has a version of its own).
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (var path in PackageIds.Select(id => Path.Combine(cache, id.ToLowerInvariant(), _version)).Append(_root))
        {
            try { if (Directory.Exists(path)) Directory.Delete(path, recursive: true); }
            catch (IOException) { }
        }
    }

    private string Packages => Path.Combine(_root, "packages");

    private async Task PackAsync()
    {
        var (code, output) = await RunAsync("dotnet", RepositoryPaths.Root, "pack", RepositoryPaths.Combine("otelai.sln"), "-c", "Release", "--no-build",
            "-o", Packages, $"-p:PackageVersion={_version}", "-nologo");
        Assert.True(code == 0, output);
        foreach (var id in PackageIds)
            Assert.True(File.Exists(Path.Combine(Packages, $"{id}.{_version}.nupkg")), $"no {id} package:\n{output}");
    }

    [Fact]
    public async Task The_tool_package_installs_and_runs_version_and_validate()
    {
        await PackAsync();
        var tools = Path.Combine(_root, "tools");
        var (installed, installOutput) = await RunAsync("dotnet", _root, "tool", "install", "otelai", "--tool-path", tools, "--add-source", Packages, "--version", _version);
        Assert.True(installed == 0, installOutput);
        var otelai = Path.Combine(tools, "otelai");
        var (versionCode, version) = await RunAsync(otelai, _root, "--version");
        Assert.True(versionCode == 0, version);
        Assert.StartsWith("otelai version 1.0.0", version.Trim());
        var (validCode, validOutput) = await RunAsync(otelai, _root, "validate", "--config", RepositoryPaths.Combine("config-samples", "quickstart.yaml"));
        Assert.True(validCode == 0, validOutput);
    }

    [Fact]
    public async Task A_project_consuming_the_packages_embeds_a_collector_fed_by_the_sdk()
    {
        await PackAsync();
        var app = Path.Combine(_root, "app");
        Directory.CreateDirectory(app);
        await File.WriteAllTextAsync(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="otelai-local" value="{Packages}" />
              </packageSources>
            </configuration>
            """);
        await File.WriteAllTextAsync(Path.Combine(app, "app.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="OtelAi.Hosting" Version="{_version}" />
              </ItemGroup>
            </Project>
            """);
        var output = Path.Combine(_root, "spans.jsonl");
        await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), $$""""
            using System.Diagnostics;
            using OpenTelemetry;
            using OpenTelemetry.Trace;
            using OtelAi.Engine;
            using OtelAi.Engine.Components;
            using OtelAi.Exporters;
            using OtelAi.Hosting;
            using OtelAi.Processors;
            using OtelAi.Receivers;

            var registry = new ComponentRegistry().AddEngineComponents().AddReceivers().AddProcessors().AddExporters().Add(new InProcessReceiverFactory());
            await using var collector = Collector.FromYaml("""
                receivers:
                  inprocess:
                processors:
                  aiattributes:
                exporters:
                  file:
                    path: {{output}}
                service:
                  pipelines:
                    traces:
                      receivers: [inprocess]
                      processors: [aiattributes]
                      exporters: [file]
                """, registry, new CollectorOptions { ServeDefaultSelfMetricsEndpoint = false });
            await collector.StartAsync();
            using var source = new ActivitySource("packaged.app");
            using (var tracing = Sdk.CreateTracerProviderBuilder().AddSource(source.Name).AddOtelAiExporter(collector).Build())
            {
                using (var span = source.StartActivity("POST /v1/chat/completions", ActivityKind.Server))
                    span?.SetTag("gen_ai.request.model", "llama-3");
                tracing.ForceFlush();
            }
            await collector.StopAsync();
            var probe = Path.Combine(AppContext.BaseDirectory, "bpf", "http_requests.bpf.o");
            Console.WriteLine(File.Exists(probe) ? "probe shipped" : "probe missing");
            """");
        var (code, log) = await RunAsync("dotnet", app, "run", "-c", "Release");
        Assert.True(code == 0, log);
        Assert.Contains("probe shipped", log);
        var written = await File.ReadAllTextAsync(output);
        Assert.Contains("POST /v1/chat/completions", written);
        Assert.Contains("\"model_id\"", written); // aiattributes from the package ran
    }

    /// <summary>Runs a command without the CLI's telemetry and banners; stdout and stderr together.</summary>
    private static async Task<(int Code, string Output)> RunAsync(string file, string directory, params string[] args)
    {
        var (code, stdout, stderr) = await ExternalCommand.RunAsync(file, args, directory,
            environment: new Dictionary<string, string> { ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1", ["DOTNET_NOLOGO"] = "1" });
        return (code, stdout + stderr);
    }
}
