using System.Net.Http.Headers;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Consumers;
using OtelAi.Otlp;

namespace OtelAi.Engine.Extensions.Auth;

public enum HeaderAction
{
    [ConfigKey("upsert")] Upsert,
    [ConfigKey("insert")] Insert,
    [ConfigKey("update")] Update,
    [ConfigKey("delete")] Delete,
}

public sealed record HeaderSetting : IConfigSection
{
    [ConfigDescription("The header to set.")]
    public string Key { get; init; } = "";

    [ConfigDescription("A fixed value.")]
    public string? Value { get; init; }

    [ConfigDescription("Client metadata key whose value is sent (the receiver needs include_metadata: true; with a sending_queue the metadata is not kept, so default_value applies).")]
    public string? FromContext { get; init; }

    [ConfigDescription("Sent when from_context finds nothing.")]
    public string? DefaultValue { get; init; }

    public HeaderAction Action { get; init; } = HeaderAction.Upsert;

    public IEnumerable<ConfigError> Validate()
    {
        if (Key.Length == 0) yield return new ConfigError("key", "must be set");
        if (Action != HeaderAction.Delete && (Value is null) == (FromContext is null)) yield return new ConfigError("value", "set exactly one of value and from_context");
    }
}

[ConfigDescription("Sets request headers on exporters from fixed values or from the client metadata of the request being exported (e.g. a tenant id).")]
public sealed record HeadersSetterConfig : ComponentConfig
{
    public List<HeaderSetting> Headers { get; init; } = [];

    public override IEnumerable<ConfigError> Validate()
    {
        if (Headers.Count == 0) yield return new ConfigError("headers", "give at least one header");
    }
}

public sealed class HeadersSetterFactory : ExtensionFactory<HeadersSetterConfig>
{
    public override string Type => "headers_setter";

    public override StabilityLevel ExtensionStability => StabilityLevel.Alpha;

    protected override IComponent Create(ComponentCreateSettings settings, HeadersSetterConfig config) =>
        new HeadersSetter(config);
}

/// <summary>The headers_setter extension: a client authenticator that writes the configured headers on every request.</summary>
internal sealed class HeadersSetter(HeadersSetterConfig config) : IComponent, IClientAuthenticator
{
    public Task StartAsync(IComponentHost host, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task ShutdownAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Apply(HttpRequestHeaders headers)
    {
        foreach (var header in config.Headers)
        {
            var present = headers.Contains(header.Key);
            if (header.Action == HeaderAction.Delete)
            {
                headers.Remove(header.Key);
                continue;
            }
            var value = header.Value ?? ClientContext.Current.GetFirst(header.FromContext!) ?? header.DefaultValue;
            if (value is null || header.Action == HeaderAction.Insert && present || header.Action == HeaderAction.Update && !present) continue;
            headers.Remove(header.Key);
            headers.TryAddWithoutValidation(header.Key, value);
        }
    }
}
