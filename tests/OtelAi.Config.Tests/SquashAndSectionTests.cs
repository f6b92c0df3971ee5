using OtelAi.Engine.Config;

namespace OtelAi.Config.Tests;

/// <summary>Shared blocks squashed into a component's keys, and the binder's recursive validation of config sections.</summary>
public sealed class SquashAndSectionTests
{
    public sealed record EndpointBlock : IConfigSection
    {
        public string Endpoint { get; init; } = "";

        public Dictionary<string, string> Headers { get; init; } = new() { ["user-agent"] = "otelai" };

        public IEnumerable<ConfigError> Validate()
        {
            if (Endpoint.Contains(' ')) yield return new("endpoint", "must not contain spaces");
        }
    }

    public sealed record Rule : IConfigSection
    {
        public int Weight { get; init; } = 1;

        public IEnumerable<ConfigError> Validate()
        {
            if (Weight <= 0) yield return new("weight", "must be positive");
        }
    }

    public sealed record BlockConfig : ComponentConfig
    {
        [ConfigSquash]
        public EndpointBlock Client { get; init; } = new() { Endpoint = "default:1" };

        public List<Rule> Rules { get; init; } = [];

        public Dictionary<string, Rule> Named { get; init; } = new();

        public Rule Fallback { get; init; } = new();

        public override IEnumerable<ConfigError> Validate()
        {
            if (Client.Endpoint.Length == 0) yield return new("endpoint", "must be set");
        }
    }

    [Fact]
    public void Squashed_keys_bind_at_the_level_of_the_record_that_holds_them()
    {
        var defaults = new BlockConfig();
        var config = ConfigLoader.Bind<BlockConfig>("endpoint: collector:4317\nheaders: {x-tenant: a}");

        Assert.Equal("collector:4317", config.Client.Endpoint);
        Assert.Equal("a", config.Client.Headers["x-tenant"]);
        Assert.Equal("otelai", config.Client.Headers["user-agent"]);
        // Binding copies the squashed record: the defaults (a factory's, shared by every component) stay as they were.
        Assert.Equal("default:1", defaults.Client.Endpoint);
        Assert.Equal("default:1", new BlockConfig().Client.Endpoint);
        Assert.DoesNotContain("x-tenant", new BlockConfig().Client.Headers.Keys);
    }

    [Fact]
    public void A_squashed_record_is_no_key_of_its_own()
    {
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.Bind<BlockConfig>("client: {endpoint: x:1}")).Issues.Single();
        Assert.Equal("client", error.KeyPath);
        Assert.Contains("valid keys: endpoint, fallback, headers, named, rules", error.Message);
    }

    [Fact]
    public void Every_section_is_validated_at_its_full_key_path_in_one_run()
    {
        var issues = Assert.Throws<ConfigException>(() => ConfigLoader.Bind<BlockConfig>("""
            endpoint: has space
            rules: [{weight: 2}, {weight: 0}]
            named: {heavy: {weight: -1}}
            fallback: {weight: 0}
            """)).Issues.Select(i => i.KeyPath).Order().ToList();

        Assert.Equal(["endpoint", "fallback.weight", "named.heavy.weight", "rules[1].weight"], issues);
    }
}
