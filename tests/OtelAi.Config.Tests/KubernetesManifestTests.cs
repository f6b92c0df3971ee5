using System.Text.Json;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Exporters;
using OtelAi.Processors;
using OtelAi.Receivers;
using OtelAi.TestSupport;
using YamlDotNet.RepresentationModel;

namespace OtelAi.Config.Tests;

/// <summary>
/// config-samples/kubernetes as a user applies it: each mode's Kustomize overlay rendered by `kubectl kustomize`,
/// every object validated against the Kubernetes OpenAPI schemas (npm kubernetes-models), and the workloads checked
/// against the otelai config they mount: it loads with the container's environment, the probes ask its health_check,
/// the container ports are its listeners, the config path is the mounted ConfigMap's key, and the security settings
/// are the mode's.
/// </summary>
public sealed class KubernetesManifestTests
{
    public static TheoryData<string, string[]> Overlays => new()
    {
        { "gateway", ["v1/ServiceAccount", "v1/ConfigMap", "v1/Service", "apps/v1/Deployment", "policy/v1/PodDisruptionBudget", "autoscaling/v2/HorizontalPodAutoscaler"] },
        { "sidecar", ["v1/ServiceAccount", "v1/ConfigMap", "v1/Pod"] },
        { "ebpf-agent", ["v1/ServiceAccount", "v1/ConfigMap", "apps/v1/DaemonSet"] },
    };

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task Overlay_renders_valid_objects_that_agree_with_the_config_they_mount(string overlay, string[] kinds)
    {
        var (code, rendered, errors) = await ExternalCommand.RunAsync("kubectl", ["kustomize", RepositoryPaths.Combine("config-samples", "kubernetes", overlay)]);
        Assert.True(code == 0, $"kubectl kustomize {overlay}: {errors}");

        var (validated, verdict, validationErrors) = await ExternalCommand.RunAsync("node", [RepositoryPaths.Combine("tests", "interop", "validate-manifests.mjs")], RepositoryPaths.Interop, stdin: rendered);
        Assert.True(validated == 0, $"{verdict}\n{validationErrors}");
        var seen = JsonDocument.Parse(verdict).RootElement.GetProperty("kinds").EnumerateArray().Select(k => string.Join('/', k.GetString()!.Split('/')[..^1])).ToList();
        Assert.Equal(kinds.Order(), seen.Order());

        var documents = Documents(rendered);
        var configMaps = documents.Where(d => Text(d, "kind") == "ConfigMap").ToDictionary(d => Text(Child(d, "metadata"), "name")!);
        var workloads = documents.Where(d => Text(d, "kind") is "Deployment" or "DaemonSet" or "Pod").ToList();
        Assert.Single(workloads);
        var workload = workloads[0];
        var podSpec = Text(workload, "kind") == "Pod" ? Child(workload, "spec") : Child(Child(Child(workload, "spec"), "template"), "spec");
        Assert.Equal(overlay == "sidecar" ? null : "otelai", Text(podSpec, "serviceAccountName"));
        var containers = Sequence(podSpec, "containers").Concat(Sequence(podSpec, "initContainers")).ToList();
        var otelai = Assert.Single(containers, c => Text(c, "image")!.StartsWith("otelai-", StringComparison.Ordinal));
        Assert.Equal($"otelai-{overlay}:1.0.0", Text(otelai, "image"));

        // The config the container runs: --config PATH is a key of a mounted ConfigMap.
        var args = ((YamlSequenceNode)otelai.Children[new YamlScalarNode("args")]).Select(a => ((YamlScalarNode)a).Value!).ToList();
        var configPath = args[args.IndexOf("--config") + 1];
        var mount = Sequence(otelai, "volumeMounts").Single(m => configPath.StartsWith(Text(m, "mountPath")! + "/", StringComparison.Ordinal));
        var volume = Sequence(podSpec, "volumes").Single(v => Text(v, "name") == Text(mount, "name"));
        var configMap = configMaps[Text(Child(volume, "configMap"), "name")!];
        var yaml = Text(Child(configMap, "data"), Path.GetFileName(configPath));
        Assert.NotNull(yaml);
        var environment = Sequence(otelai, "env").ToDictionary(e => Text(e, "name")!, e => Text(e, "value")
            ?? (e.ToString().Contains("status.podIP", StringComparison.Ordinal) ? "10.1.2.3" : $"{Text(e, "name")!.ToLowerInvariant()}-from-the-downward-api"));
        var loaded = ConfigLoader.Load([new ConfigSource(configPath, yaml!)], Registry(), environment: name => environment.GetValueOrDefault(name));
        var listeners = loaded.Config.Receivers.Values.Concat(loaded.Config.Extensions.Values).OfType<IListenEndpoints>()
            .SelectMany(c => c.ListenEndpoints().Select(e => e.Endpoint))
            .Append(loaded.Config.Telemetry.Metrics.Address)
            .Select(endpoint => int.Parse(endpoint[(endpoint.LastIndexOf(':') + 1)..]))
            .ToHashSet();

        // Container ports are the config's listeners; probes ask its health_check.
        var ports = Sequence(otelai, "ports").ToDictionary(p => Text(p, "name")!, p => int.Parse(Text(p, "containerPort")!));
        foreach (var (name, port) in ports) Assert.True(listeners.Contains(port), $"container port {name} ({port}) is no listener of {configPath}");
        var healthPort = loaded.Config.Extensions.Values.OfType<OtelAi.Engine.Extensions.HealthCheck.HealthCheckConfig>().Single().Endpoint;
        foreach (var probe in new[] { "startupProbe", "readinessProbe", "livenessProbe" }.Where(p => otelai.Children.ContainsKey(new YamlScalarNode(p))))
        {
            var port = Text(Child(Child(otelai, probe), "httpGet"), "port")!;
            Assert.EndsWith($":{(int.TryParse(port, out var number) ? number : ports[port])}", healthPort);
        }
        Assert.Contains(otelai.Children.Keys, k => k.ToString() == "livenessProbe");

        // A Service's targets are the container's ports.
        foreach (var service in documents.Where(d => Text(d, "kind") == "Service"))
            foreach (var port in Sequence(Child(service, "spec"), "ports"))
                Assert.Contains(Text(port, "targetPort"), ports.Keys);

        // Security: no privilege escalation, read-only root filesystem; non-root but for the eBPF agent, which gets
        // exactly the BPF capabilities instead of privileged.
        var security = Child(otelai, "securityContext");
        Assert.Equal("false", Text(security, "allowPrivilegeEscalation"));
        Assert.Equal("true", Text(security, "readOnlyRootFilesystem"));
        var added = Child(security, "capabilities").Children.TryGetValue(new YamlScalarNode("add"), out var add) ? ((YamlSequenceNode)add).Select(c => c.ToString()).ToList() : [];
        if (overlay == "ebpf-agent")
        {
            Assert.Equal(["BPF", "PERFMON", "SYS_RESOURCE"], added);
            Assert.NotEqual("true", Text(security, "privileged"));
        }
        else
        {
            Assert.Empty(added);
            Assert.Equal("true", Text(Child(podSpec, "securityContext"), "runAsNonRoot"));
        }
        Assert.Equal("5A", environment["DOTNET_GCHeapHardLimitPercent"]);
    }

    private static ComponentRegistry Registry() => new ComponentRegistry().AddEngineComponents().AddReceivers().AddProcessors().AddExporters();

    private static List<YamlMappingNode> Documents(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        return [.. stream.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>()];
    }

    private static YamlMappingNode Child(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var child) && child is YamlMappingNode mapping ? mapping : new YamlMappingNode();

    private static string? Text(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var child) && child is YamlScalarNode scalar ? scalar.Value : null;

    private static IEnumerable<YamlMappingNode> Sequence(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var child) && child is YamlSequenceNode sequence ? sequence.OfType<YamlMappingNode>() : [];

}
