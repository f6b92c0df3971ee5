using System.Text;
using OtelAi.Engine.Components;
using OtelAi.Engine;
using OtelAi.Engine.Config;

namespace OtelAi.Cli;

/// <summary><c>--config</c> sources and <c>--set</c> overrides, as otelcol accepts them.</summary>
public sealed record ConfigArguments(IReadOnlyList<string> Configs, IReadOnlyList<string> Sets)
{
    /// <summary><c>--shutdown-timeout</c>: the drain budget on SIGTERM (overrides <c>service.shutdown_timeout</c>).</summary>
    public TimeSpan? ShutdownTimeout { get; init; }

    /// <summary>Every <c>--feature-gates</c> value, applied in order when the config is loaded.</summary>
    public IReadOnlyList<string> FeatureGateFlags { get; init; } = [];

    /// <summary>Parses <c>--config X</c>, <c>--config=X</c>, <c>--set k=v</c>, <c>--set=k=v</c>; the error names what is wrong.</summary>
    public static ConfigArguments Parse(IReadOnlyList<string> args)
    {
        var configs = new List<string>();
        var sets = new List<string>();
        var shutdownTimeouts = new List<string>();
        var featureGates = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            var (flag, value) = arg.IndexOf('=') is var eq and > 0 && arg.StartsWith("--") ? (arg[..eq], arg[(eq + 1)..]) : (arg, null);
            var target = flag switch
            {
                "--config" or "-c" => configs,
                "--set" => sets,
                "--shutdown-timeout" => shutdownTimeouts,
                "--feature-gates" => featureGates,
                _ => throw new ArgumentException($"unknown argument \"{arg}\"; run otelai --help"),
            };
            if (value is null)
            {
                if (i + 1 >= args.Count) throw new ArgumentException($"{flag} needs a value");
                value = args[++i];
            }
            target.Add(value);
        }
        if (configs.Count == 0) throw new ArgumentException("at least one --config is required");
        TimeSpan? shutdownTimeout = null;
        if (shutdownTimeouts.Count > 0)
            shutdownTimeout = Durations.TryParse(shutdownTimeouts[^1], out var budget) && budget >= TimeSpan.Zero
                ? budget
                : throw new ArgumentException($"--shutdown-timeout \"{shutdownTimeouts[^1]}\" is not a duration (e.g. 30s, 2m)");
        return new ConfigArguments(configs, sets) { ShutdownTimeout = shutdownTimeout, FeatureGateFlags = featureGates };
    }

    /// <summary>
    /// Sets the feature gates on <paramref name="registry"/> (throws <see cref="ArgumentException"/> naming every bad
    /// gate), then loads and binds every source in order; throws <see cref="ConfigException"/> listing every problem.
    /// </summary>
    public LoadedConfig Load(ComponentRegistry registry)
    {
        var notes = FeatureGateFlags.SelectMany(registry.FeatureGates.Apply).ToList();
        var loaded = Collector.Load(Configs.Select(ToSource).ToList(), registry, Sets);
        return notes.Count == 0 ? loaded : loaded with
        {
            Warnings = [.. notes.Select(note => new ConfigIssue(ConfigIssueSeverity.Warning, "", note, null)), .. loaded.Warnings],
        };
    }

    private static ConfigSource ToSource(string config)
    {
        if (config.StartsWith("yaml:", StringComparison.Ordinal))
            return new ConfigSource("yaml", InlineYaml(config["yaml:".Length..]));
        if (config.StartsWith("env:", StringComparison.Ordinal))
        {
            var variable = config["env:".Length..];
            return Environment.GetEnvironmentVariable(variable) is { Length: > 0 } yaml
                ? new ConfigSource(config, yaml)
                : throw new ConfigException([new ConfigIssue(ConfigIssueSeverity.Error, "", $"config source \"{config}\": the environment variable {variable} is not set or empty", null)]);
        }
        if (config.StartsWith("http://", StringComparison.Ordinal) || config.StartsWith("https://", StringComparison.Ordinal))
            return new ConfigSource(config, Fetch(config));
        var path = config.StartsWith("file:", StringComparison.Ordinal) ? config["file:".Length..] : config;
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException([new ConfigIssue(ConfigIssueSeverity.Error, "", $"cannot read config file \"{path}\": {ex.Message}", null)]);
        }
        return new ConfigSource(path, text);
    }

    /// <summary>otelcol's http/https config providers: the body of a GET, which must answer 200.</summary>
    private static string Fetch(string url)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        try
        {
            using var response = http.GetAsync(url).GetAwaiter().GetResult();
            if (!response.IsSuccessStatusCode)
                throw new HttpRequestException($"HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
            return response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or InvalidOperationException)
        {
            throw new ConfigException([new ConfigIssue(ConfigIssueSeverity.Error, "", $"cannot fetch config \"{url}\": {(ex is TaskCanceledException ? "no answer within 10 s" : ex.Message)}", null)]);
        }
    }

    /// <summary>otelcol's <c>yaml:</c> source: a YAML document where <c>::</c> separates nested keys (<c>a::b: 1</c> is <c>a: {b: 1}</c>).</summary>
    internal static string InlineYaml(string text)
    {
        var colon = text.IndexOf(": ", StringComparison.Ordinal);
        var keyEnd = colon >= 0 ? colon : text.EndsWith(':') ? text.Length - 1 : -1;
        if (keyEnd < 0 || !text[..keyEnd].Contains("::")) return text;
        var keys = text[..keyEnd].Split("::");
        var value = colon >= 0 ? text[(colon + 2)..] : "";
        var yaml = new StringBuilder();
        for (var depth = 0; depth < keys.Length; depth++)
        {
            yaml.Append(' ', depth * 2).Append(keys[depth]).Append(':');
            if (depth < keys.Length - 1) yaml.Append('\n');
        }
        return yaml.Append(' ').Append(value).Append('\n').ToString();
    }
}
