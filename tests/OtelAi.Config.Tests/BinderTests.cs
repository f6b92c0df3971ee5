using OtelAi.Engine.Components;
using OtelAi.Engine.Config;

namespace OtelAi.Config.Tests;

public class BinderTests
{
    [Fact]
    public void BindsEverySupportedPropertyType()
    {
        var config = ConfigLoader.Bind<AllTypesConfig>("""
            text: hello
            optional_text: there
            flag: true
            count: 0x1F
            big: 9_000_000_000
            ratio: 2.5
            maybe_count: 7
            fraction: 0.25
            interval: 1m30s
            optional_interval: 10us
            compression: zstd
            level: detailed
            storage: file_storage/queue
            optional_storage: file_storage
            include: [/var/log/a.json, /var/log/b.json]
            ports: [4317, 4318]
            tags: [a, b, c]
            keys: [x, y, x]
            limit_list:
              - max_items: 1
              - name: second
            labels:
              team: ml
            limits_by_name:
              small: {max_items: 5}
            limits:
              name: custom
            optional_limits:
            extra:
              rules: [{match: x, weight: 2}]
              plain: 3
            renamed-key: renamed
            """);
        Assert.Equal("hello", config.Text);
        Assert.Equal("there", config.OptionalText);
        Assert.True(config.Flag);
        Assert.Equal(31, config.Count);
        Assert.Equal(9_000_000_000L, config.Big);
        Assert.Equal(2.5, config.Ratio);
        Assert.Equal(7, config.MaybeCount);
        Assert.Equal(0.25, config.Fraction);
        Assert.Equal(TimeSpan.FromSeconds(90), config.Interval);
        Assert.Equal(TimeSpan.FromTicks(100), config.OptionalInterval);
        Assert.Equal(Compression.ZStandard, config.Compression);
        Assert.Equal(Verbosity.Detailed, config.Level);
        Assert.Equal(new ComponentId("file_storage", "queue"), config.Storage);
        Assert.Equal(new ComponentId("file_storage"), config.OptionalStorage);
        Assert.Equal(["/var/log/a.json", "/var/log/b.json"], config.Include);
        Assert.Equal([4317, 4318], config.Ports);
        Assert.Equal(["a", "b", "c"], config.Tags);
        Assert.Equal(new HashSet<string> { "x", "y" }, config.Keys);
        Assert.Equal([new Limits { MaxItems = 1 }, new Limits { Name = "second" }], config.LimitList);
        Assert.Equal(new Dictionary<string, string> { ["keep"] = "me", ["team"] = "ml" }, config.Labels);
        Assert.Equal(new Limits { MaxItems = 5 }, config.LimitsByName["small"]);
        // A nested record keeps the defaults its parent gave it for keys the YAML leaves out.
        Assert.Equal(new Limits { MaxItems = 20, Name = "custom" }, config.Limits);
        // "optional_limits:" with nothing after it turns the section on with its defaults, as in otelcol.
        Assert.Equal(new Limits(), config.OptionalLimits);
        Assert.Equal("renamed", config.Renamed);
        var extra = Assert.IsType<ConfigValue.Map>(config.Extra);
        Assert.Equal(new ConfigValue.Scalar("3"), extra.Entries["plain"]);
        var rule = Assert.IsType<ConfigValue.Map>(Assert.Single(Assert.IsType<ConfigValue.Sequence>(extra.Entries["rules"]).Items));
        Assert.Equal(new ConfigValue.Scalar("x"), rule.Entries["match"]);
    }

    [Fact]
    public void AbsentKeysKeepTheirDefaults()
    {
        var config = ConfigLoader.Bind<AllTypesConfig>("count: 3");
        var defaults = new AllTypesConfig();
        Assert.Equal(3, config.Count);
        Assert.Equal(defaults.Text, config.Text);
        Assert.Equal(defaults.Ratio, config.Ratio);
        Assert.Equal(defaults.Interval, config.Interval);
        Assert.Equal(defaults.Compression, config.Compression);
        Assert.Equal(defaults.Ports, config.Ports);
        Assert.Equal(defaults.Labels, config.Labels);
        Assert.Equal(defaults.Limits, config.Limits);
        Assert.Null(config.OptionalLimits);
        Assert.Null(config.MaybeCount);
        Assert.Null(config.Extra);
    }

    [Fact]
    public void NullValuesKeepTheDefault()
    {
        var config = ConfigLoader.Bind<AllTypesConfig>("count:\ntext: ~\nports: null\n");
        Assert.Equal(1, config.Count);
        Assert.Equal("text", config.Text);
        Assert.Equal([1, 2], config.Ports);
    }

    [Fact]
    public void CommaSeparatedStringBindsToAList()
    {
        var config = ConfigLoader.Bind<AllTypesConfig>("include: a.json, b.json\nports: 1,2");
        Assert.Equal(["a.json", "b.json"], config.Include);
        Assert.Equal([1, 2], config.Ports);
    }

    [Fact]
    public void EnumsBindBySnakeCaseOrConfigKey()
    {
        Assert.Equal(Verbosity.Normal, ConfigLoader.Bind<AllTypesConfig>("level: normal").Level);
        Assert.Equal(Compression.None, ConfigLoader.Bind<AllTypesConfig>("compression: none").Compression);
        var error = Assert.Single(Assert.Throws<ConfigException>(() => ConfigLoader.Bind<AllTypesConfig>("compression: z_standard")).Issues);
        Assert.Equal("expected one of none, gzip, zstd, got \"z_standard\"", error.Message);
    }

    [Fact]
    public void BindingDoesNotChangeTheFactoryDefault()
    {
        var registry = TestRegistry.Create();
        var loaded = ConfigLoader.Load([new ConfigSource("a.yaml", "receivers:\n  otlpjsonfile:\n    limits: {name: changed}\n    labels: {x: y}\n")], registry);
        Assert.True(registry.TryGet(ComponentKind.Receiver, "otlpjsonfile", out var factory));
        Assert.Equal("default", ((AllTypesConfig)factory.CreateDefaultConfig()).Limits.Name);
        Assert.Equal("changed", ((AllTypesConfig)loaded.Config.Receivers[new ComponentId("otlpjsonfile")]).Limits.Name);
    }

    [Theory]
    [InlineData("flag: yes", "flag", "expected true or false, got \"yes\"")]
    [InlineData("count: 3000000000", "count", "expected an integer, got \"3000000000\"")]
    [InlineData("count: 1.5", "count", "expected an integer, got \"1.5\"")]
    [InlineData("ratio: half", "ratio", "expected a number, got \"half\"")]
    [InlineData("fraction: 2", "fraction", "must be between 0 and 1, got 2")]
    [InlineData("storage: 1st", "storage", "expected a component id (type or type/name): invalid component type \"1st\": must match ^[a-zA-Z][0-9a-zA-Z_]{0,62}$")]
    [InlineData("ports: {a: 1}", "ports", "expected a list, got a mapping")]
    [InlineData("ports: [1, x]", "ports[1]", "expected an integer, got \"x\"")]
    [InlineData("labels: [a]", "labels", "expected a mapping, got a list")]
    [InlineData("limits: 5", "limits", "expected a mapping of keys max_items, name, got \"5\"")]
    [InlineData("limits: {max_item: 5}", "limits.max_item", "unknown key \"max_item\"; valid keys: max_items, name (did you mean \"max_items\"?)")]
    public void WrongValuesAreReportedWithTheirPath(string yaml, string path, string message)
    {
        var error = Assert.Single(Assert.Throws<ConfigException>(() => ConfigLoader.Bind<AllTypesConfig>(yaml)).Issues);
        Assert.Equal(path, error.KeyPath);
        Assert.Equal(message, error.Message);
        Assert.Equal(ConfigLoader.InlineSourceName, error.Location!.File);
        Assert.Equal(1, error.Location.Line);
    }

    [Fact]
    public void BindRunsValidate()
    {
        var error = Assert.Single(Assert.Throws<ConfigException>(() => ConfigLoader.Bind<BatchTestConfig>("send_batch_size: 10\nsend_batch_max_size: 5")).Issues);
        Assert.Equal("send_batch_max_size", error.KeyPath);
        Assert.Equal(new SourceLocation(ConfigLoader.InlineSourceName, 2, 1), error.Location);
    }

    [Fact]
    public void BareIntegerDurationIsNanosecondsWithAWarning()
    {
        var loaded = TestLoad.Yaml("processors:\n  batch:\n    timeout: 5000\n");
        Assert.Equal(TimeSpan.FromTicks(50), ((BatchTestConfig)loaded.Config.Processors[new ComponentId("batch")]).Timeout);
        var warning = Assert.Single(loaded.Warnings);
        Assert.Equal("processors.batch.timeout", warning.KeyPath);
        Assert.Contains("nanoseconds", warning.Message);
    }

    [Theory]
    [InlineData("SendBatchSize", "send_batch_size")]
    [InlineData("Timeout", "timeout")]
    [InlineData("HTTPServer", "http_server")]
    [InlineData("MaxRecvMsgSizeMib", "max_recv_msg_size_mib")]
    [InlineData("Http2Enabled", "http2_enabled")]
    [InlineData("TlsCAFile", "tls_ca_file")]
    public void PropertyNamesBecomeSnakeCaseKeys(string name, string key) => Assert.Equal(key, ConfigTypeModel.SnakeCase(name));
}
