using System.Net;
using OtelAi.Cli;
using OtelAi.Otlp.Json;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.TestSupport;

namespace OtelAi.Engine.Tests;

/// <summary>Runs the built <c>otelai</c> as a user would: a separate process, real config files, real signals.</summary>
public sealed class CliTests : IDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly string _dir = Directory.CreateTempSubdirectory("otelai-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Trait(OtelaiProcess.Trait, OtelaiProcess.Executable)]
    [Fact]
    public async Task Run_reads_otlp_json_fans_out_to_two_files_and_drains_on_sigterm()
    {
        var requests = Enumerable.Range(0, 3).Select(i => SampleData.Traces(5, seed: i)).ToList();
        var input = Path.Combine(_dir, "input.jsonl");
        await File.WriteAllLinesAsync(input, requests.Select(r => OtlpJson.ToJson(r)));
        var healthPort = TestPorts.GetFree();
        var metricsPort = TestPorts.GetFree();
        var config = Write("collector.yaml", $"""
            receivers:
              otlpjsonfile:
                include: ["{input}"]
                start_at: beginning
            processors:
              batch:
                timeout: 1h   # nothing leaves the batch before shutdown: the files prove the drain
            exporters:
              file/a:
                path: {_dir}/a.jsonl
              file/b:
                path: {_dir}/b.jsonl
            extensions:
              health_check:
                endpoint: 127.0.0.1:{healthPort}
            service:
              extensions: [health_check]
              pipelines:
                traces:
                  receivers: [otlpjsonfile]
                  processors: [batch]
                  exporters: [file/a, file/b]
              telemetry:
                resource:
                  service.name: gateway-7
                metrics:
                  address: 127.0.0.1:{metricsPort}
            """);

        using var otelai = OtelaiProcess.Start("--config", config);
        await Harness.Eventually(() => Status($"http://127.0.0.1:{healthPort}/") == HttpStatusCode.OK, "health_check to report 200");
        await Harness.Eventually(
            () => System.Text.RegularExpressions.Regex.IsMatch(Scrape(metricsPort), "otelcol_receiver_accepted_spans_total\\{receiver=\"otlpjsonfile\",transport=\"file\",service_instance_id=\"[^\"]+\",service_name=\"gateway-7\",service_version=\"[^\"]+\"\\} 15\n"),
            "the receiver to accept 15 spans");

        otelai.Signal("TERM");
        var (exitCode, stderr) = await otelai.WaitForExitAsync();

        Assert.True(exitCode == 0, $"exit code {exitCode}; stderr:\n{stderr}");
        Assert.Contains("Shutdown complete.", stderr);
        var expected = requests.SelectMany(r => r.ResourceSpans[0].ScopeSpans[0].Spans).OrderBy(s => s.SpanId.ToBase64()).ToList();
        foreach (var file in new[] { "a.jsonl", "b.jsonl" })
        {
            var exported = (await File.ReadAllLinesAsync(Path.Combine(_dir, file)))
                .Select(OtlpJson.Parse<ExportTraceServiceRequest>)
                .SelectMany(r => r.ResourceSpans).SelectMany(rs => rs.ScopeSpans).SelectMany(ss => ss.Spans)
                .OrderBy(s => s.SpanId.ToBase64()).ToList();
            Assert.Equal(expected, exported);
        }
    }

    [Trait(OtelaiProcess.Trait, OtelaiProcess.Executable)]
    [Fact]
    public async Task Validate_exits_0_for_a_valid_config_and_prints_warnings()
    {
        var config = Write("ok.yaml", """
            receivers:
              otlp:
                protocols:
                  grpc:
            processors:
              batch:
            exporters:
              debug:
                verbosity: basic
            service:
              pipelines:
                traces:
                  receivers: [otlp]
                  exporters: [debug]
            """);
        using var otelai = OtelaiProcess.Start("validate", "--config", config);
        var (exitCode, stderr) = await otelai.WaitForExitAsync();

        Assert.Equal(0, exitCode);
        Assert.Equal("configuration is valid", otelai.Stdout.Trim());
        Assert.Contains($"{config}:6:3: warning: processors.batch: processor \"batch\" is configured but not used in any pipeline", stderr);
    }

    [Trait(OtelaiProcess.Trait, OtelaiProcess.Executable)]
    [Fact]
    public async Task Validate_exits_1_listing_every_error_with_file_line_column_and_key_path()
    {
        var config = Write("broken.yaml", """
            receivers:
              otlp:
                protocols:
                  grpc:
            exporters:
              debug:
            service:
              extensions: [health_check]
              pipelines:
                metrics:
                  receivers: [otlp]
                  exporters: [debug, forward]
            """);
        using var otelai = OtelaiProcess.Start("validate", "--config", config);
        var (exitCode, stderr) = await otelai.WaitForExitAsync();

        Assert.Equal(1, exitCode);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains($"{config}:8:16: service.extensions[0]: references extension \"health_check\" which is not configured", lines);
        Assert.Contains($"{config}:12:26: service.pipelines.metrics.exporters[1]: references exporter \"forward\" which is not configured", lines);
        Assert.Equal("invalid configuration: 2 error(s)", lines[^1]);
    }

    [Trait(OtelaiProcess.Trait, OtelaiProcess.Executable)]
    [Fact]
    public async Task Several_configs_merge_and_set_overrides_apply()
    {
        var baseConfig = Write("base.yaml", """
            receivers:
              otlp:
                protocols:
                  grpc:
            exporters:
              debug:
            service:
              pipelines:
                traces:
                  receivers: [otlp]
                  exporters: [debug]
            """);
        using var otelai = OtelaiProcess.Start("validate", "--config", baseConfig,
            "--config=yaml:processors::batch::timeout: 2s", "--set=service.pipelines.traces.processors=[batch]");
        var (exitCode, stderr) = await otelai.WaitForExitAsync();

        Assert.True(exitCode == 0, stderr);
        Assert.DoesNotContain("warning", stderr); // batch is defined by the yaml: source and used through --set
    }

    [Trait(OtelaiProcess.Trait, OtelaiProcess.Executable)]
    [Fact]
    public async Task Version_help_and_unknown_commands()
    {
        using (var version = OtelaiProcess.Start("--version"))
        {
            Assert.Equal(0, (await version.WaitForExitAsync()).ExitCode);
            Assert.StartsWith("otelai version ", version.Stdout);
        }
        using (var help = OtelaiProcess.Start("--help"))
        {
            Assert.Equal(0, (await help.WaitForExitAsync()).ExitCode);
            Assert.Contains("validate", help.Stdout);
            Assert.Contains("components", help.Stdout);
        }
        using var unknown = OtelaiProcess.Start("frobnicate");
        var (code, stderr) = await unknown.WaitForExitAsync();
        Assert.Equal(2, code);
        Assert.Contains("unknown command \"frobnicate\"", stderr);
    }

    [Fact]
    public void Components_lists_every_kind_with_stability_and_aliases()
    {
        var text = ComponentsCommand.Render(BuiltinComponents.CreateRegistry());
        Assert.Contains("extensions:\n", text);
        Assert.Contains("  - name: health_check\n    stability:\n      extension: Beta\n", text);
        Assert.Contains("  - name: forward\n    stability:\n      traces-to-traces: Beta\n", text);
        Assert.Contains("  - name: otlp_grpc\n    aliases: [otlp]\n", text);
    }

    [Theory]
    [InlineData("processors::batch::timeout: 2s", "processors:\n  batch:\n    timeout: 2s\n")]
    [InlineData("exporters::debug:", "exporters:\n  debug: \n")]
    [InlineData("receivers: {otlp: {}}", "receivers: {otlp: {}}")]
    public void Inline_yaml_source_nests_double_colon_keys(string inline, string yaml) =>
        Assert.Equal(yaml, ConfigArguments.InlineYaml(inline));

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static HttpStatusCode? Status(string url)
    {
        try { return Http.GetAsync(url).GetAwaiter().GetResult().StatusCode; }
        catch (HttpRequestException) { return null; }
    }

    private static string Scrape(int port)
    {
        try { return Http.GetStringAsync($"http://127.0.0.1:{port}/metrics").GetAwaiter().GetResult(); }
        catch (HttpRequestException) { return ""; }
    }
}

public sealed class CliInProcessTests
{
    [Fact]
    public async Task Schema_prints_a_json_schema_covering_shipped_components()
    {
        var output = new StringWriter();
        var code = await CliCommands.RunAsync(["schema"], new CliConsole(output, new StringWriter()), CancellationToken.None);

        Assert.Equal(0, code);
        using var schema = System.Text.Json.JsonDocument.Parse(output.ToString());
        var text = output.ToString();
        Assert.Contains("health_check", text);
        Assert.Contains("otlpjsonfile", text);
        Assert.Equal(System.Text.Json.JsonValueKind.Object, schema.RootElement.ValueKind);
    }

    [Fact]
    public async Task Run_without_config_explains_what_is_missing()
    {
        var errors = new StringWriter();
        var code = await CliCommands.RunAsync(["--set=processors.batch.timeout=2s"], new CliConsole(new StringWriter(), errors), CancellationToken.None);

        Assert.Equal(2, code);
        Assert.Equal("at least one --config is required", errors.ToString().Trim());
    }
}

public sealed class CliRunFailureTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("otelai-cli-fail-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Run_exits_1_naming_the_component_that_cannot_start()
    {
        using var occupied = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        occupied.Start();
        var port = ((System.Net.IPEndPoint)occupied.LocalEndpoint).Port;
        var config = Path.Combine(_dir, "c.yaml");
        await File.WriteAllTextAsync(config, $"""
            receivers:
              otlpjsonfile:
                include: ["{_dir}/*.jsonl"]
            exporters:
              file:
                path: {_dir}/out.json
            extensions:
              health_check:
                endpoint: 127.0.0.1:{port}
            service:
              extensions: [health_check]
              pipelines:
                logs:
                  receivers: [otlpjsonfile]
                  exporters: [file]
              telemetry:
                logs:
                  level: error
                metrics:
                  level: none
            """);
        var errors = new StringWriter();

        var code = await CliCommands.RunAsync(["--config", config], new CliConsole(new StringWriter(), errors), CancellationToken.None);

        Assert.Equal(1, code);
        Assert.StartsWith($"error: failed to start extension \"health_check\": cannot listen on 127.0.0.1:{port}", errors.ToString());
    }
}

/// <summary>Config sources beyond files, per-command help and the version line.</summary>
public sealed class CliSourceTests
{
    private const string Config = """
        receivers:
          otlp:
            protocols:
              http:
                endpoint: 127.0.0.1:4318
        exporters:
          debug:
        service:
          pipelines:
            traces:
              receivers: [otlp]
              exporters: [debug]
        """;

    private static async Task<(int Code, string Out, string Error)> RunAsync(params string[] args)
    {
        var (output, errors) = (new StringWriter(), new StringWriter());
        var code = await CliCommands.RunAsync(args, new CliConsole(output, errors), CancellationToken.None);
        return (code, output.ToString(), errors.ToString());
    }

    [Fact]
    public async Task Every_command_has_help_naming_the_config_sources_when_it_reads_a_config()
    {
        foreach (var command in CliCommands.All)
        {
            var (code, output, _) = await RunAsync(command.Name, "--help");
            Assert.Equal(0, code);
            Assert.StartsWith($"otelai {command.Name}: {command.Summary}", output);
            if (command.TakesConfig) Assert.Contains("env:VARIABLE", output);
            else Assert.DoesNotContain("env:VARIABLE", output);
        }
        Assert.Contains(CliCommands.All, c => !c.TakesConfig && c.Name == "top");
    }

    [Fact]
    public async Task Completion_scripts_complete_commands_and_flags_in_bash()
    {
        var (code, script, _) = await RunAsync("completion", "bash");
        Assert.Equal(0, code);
        Assert.Equal(2, (await RunAsync("completion", "fish")).Code);
        Assert.Contains("complete -o default -F _otelai otelai", script);
        Assert.Equal(0, (await RunAsync("completion", "zsh")).Code);

        // Run the script in bash and ask it what it completes after "otelai va" and "otelai validate --co".
        var file = Path.Combine(Path.GetTempPath(), $"otelai-completion-{Guid.NewGuid():N}.bash");
        await File.WriteAllTextAsync(file, script + """
            COMP_WORDS=(otelai va); COMP_CWORD=1; _otelai; echo "${COMPREPLY[*]}"
            COMP_WORDS=(otelai validate --co); COMP_CWORD=2; _otelai; echo "${COMPREPLY[*]}"
            COMP_WORDS=(otelai tap --co); COMP_CWORD=2; _otelai; echo "${COMPREPLY[*]}"
            """);
        using var bash = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("bash", [file]) { RedirectStandardOutput = true })!;
        var output = (await bash.StandardOutput.ReadToEndAsync()).Split('\n');
        await bash.WaitForExitAsync();
        File.Delete(file);
        Assert.Equal("validate", output[0]);
        Assert.Equal("--config", output[1]);
        Assert.Equal("--component --count", output[2]);
    }

    [Fact]
    public async Task Version_names_the_commit_of_the_build()
    {
        var (code, output, _) = await RunAsync("--version");
        Assert.Equal(0, code);
        Assert.Matches(@"^otelai version \d+\.\d+\.\d+ \(commit [0-9a-f]{7,40}\)\s*$", output);
    }

    [Fact]
    public async Task A_config_held_by_an_environment_variable_is_read_from_it()
    {
        var variable = $"OTELAI_TEST_CONFIG_{Guid.NewGuid():N}";
        Environment.SetEnvironmentVariable(variable, Config);
        try
        {
            Assert.Equal(0, (await RunAsync("validate", "--config", $"env:{variable}")).Code);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
        var (code, _, error) = await RunAsync("validate", "--config", $"env:{variable}");
        Assert.Equal(1, code);
        Assert.Contains($"the environment variable {variable} is not set or empty", error);
    }

    [Fact]
    public async Task Print_config_shows_the_effective_config_with_secrets_redacted_and_it_still_loads()
    {
        var variable = $"OTELAI_TEST_TENANT_{Guid.NewGuid():N}";
        Environment.SetEnvironmentVariable(variable, "team-a");
        var source = $$"""
            extensions:
              bearertokenauth:
                token: s3cret-token
            receivers:
              otlp:
                protocols:
                  http:
                    endpoint: 127.0.0.1:4318
            exporters:
              otlphttp:
                endpoint: http://collector:pa55word@gateway:4318
                headers:
                  Authorization: Bearer header-secret
                  X-Scope-OrgID: ${env:{{variable}}}
            service:
              extensions: [bearertokenauth]
              pipelines:
                traces:
                  receivers: [otlp]
                  exporters: [otlphttp]
            """;
        try
        {
            var file = Path.Combine(Path.GetTempPath(), $"otelai-print-{Guid.NewGuid():N}.yaml");
            await File.WriteAllTextAsync(file, source);
            var (code, output, _) = await RunAsync("print-config", "--config", file, "--set", "exporters.otlphttp.timeout=7s");
            Assert.Equal(0, code);
            foreach (var secret in new[] { "s3cret-token", "header-secret", "pa55word" }) Assert.DoesNotContain(secret, output);
            Assert.Contains("token: \"[REDACTED]\"", output);
            Assert.Contains("Authorization: \"[REDACTED]\"", output);
            Assert.Contains("http://collector:xxxxx@gateway:4318", output);
            Assert.Contains("X-Scope-OrgID: team-a", output); // expanded, and not a secret
            Assert.Contains("timeout: 7s", output); // --set applied

            await File.WriteAllTextAsync(file, output);
            Assert.Equal(0, (await RunAsync("validate", "--config", file)).Code);
            var (_, unredacted, _) = await RunAsync("print-config", "--mode", "unredacted", "--config", file);
            Assert.Contains("[REDACTED]", unredacted); // what was printed redacted stays so
            File.Delete(file);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public async Task A_config_is_fetched_from_an_http_url()
    {
        await using var server = await OtelAi.Otlp.Hosting.ServerHost.StartAsync("127.0.0.1:0", context =>
        {
            if (context.Request.Path == "/otelai.yaml") return Microsoft.AspNetCore.Http.HttpResponseWritingExtensions.WriteAsync(context.Response, Config);
            context.Response.StatusCode = 404;
            return Task.CompletedTask;
        }, OtelAi.Otlp.Hosting.ServerHostSetup.Http1, CancellationToken.None);

        Assert.Equal(0, (await RunAsync("validate", "--config", $"http://127.0.0.1:{server.Port}/otelai.yaml")).Code);
        var (code, _, error) = await RunAsync("validate", "--config", $"http://127.0.0.1:{server.Port}/missing.yaml");
        Assert.Equal(1, code);
        Assert.Contains($"cannot fetch config \"http://127.0.0.1:{server.Port}/missing.yaml\": HTTP 404", error);
    }
}

/// <summary>Stopping with a backend down: the budget comes from the CLI or the config, the log says what happened, the exit code whether data was lost.</summary>
[Trait(OtelaiProcess.Trait, OtelaiProcess.Executable)]
public sealed class CliShutdownTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("otelai-cli-stop-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private async Task<(int ExitCode, string Stderr, TimeSpan Took)> StopWithBackendDownAsync(string serviceExtra, params string[] flags)
    {
        var (port, deadPort) = (TestPorts.GetFree(), TestPorts.GetFree());
        var config = Path.Combine(_dir, $"c-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(config, $"""
            receivers:
              otlp:
                protocols:
                  http:
                    endpoint: 127.0.0.1:{port}
            exporters:
              otlp:
                endpoint: 127.0.0.1:{deadPort}
                tls:
                  insecure: true
                retry_on_failure:
                  initial_interval: 100ms
            service:
              {serviceExtra}
              telemetry:
                metrics:
                  level: none
              pipelines:
                traces:
                  receivers: [otlp]
                  exporters: [otlp]
            """);
        using var otelai = OtelaiProcess.Start(["--config", config, .. flags]);
        otelai.WaitUntilListening(port);
        using (var http = new HttpClient())
        using (var body = new ByteArrayContent(Google.Protobuf.MessageExtensions.ToByteArray(SampleData.Traces(5))))
        {
            body.Headers.ContentType = new("application/x-protobuf");
            Assert.Equal(HttpStatusCode.OK, (await http.PostAsync($"http://127.0.0.1:{port}/v1/traces", body)).StatusCode);
        }
        var stopping = System.Diagnostics.Stopwatch.StartNew();
        otelai.Signal("TERM");
        var (exitCode, stderr) = await otelai.WaitForExitAsync();
        return (exitCode, stderr, stopping.Elapsed);
    }

    [Fact]
    public async Task The_config_sets_the_budget_and_dropped_data_gives_exit_code_3_with_a_summary()
    {
        var (exitCode, stderr, took) = await StopWithBackendDownAsync("shutdown_timeout: 1s");
        Assert.True(exitCode == 3, $"exit code {exitCode}; stderr:\n{stderr}");
        Assert.Contains("Received SIGTERM: stopping, draining in-flight data for at most 1s", stderr);
        Assert.Contains("Shutdown drained 0 items; 0 queued requests kept in persistent queues for the next start; 5 items dropped", stderr);
        Assert.True(took < TimeSpan.FromSeconds(20), $"stopping took {took}");
    }

    [Fact]
    public async Task The_command_line_budget_wins_over_the_config()
    {
        var (exitCode, stderr, _) = await StopWithBackendDownAsync("shutdown_timeout: 1m", "--shutdown-timeout", "500ms");
        Assert.Equal(3, exitCode);
        Assert.Contains("draining in-flight data for at most 0.5s", stderr);
    }
}
