using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;

namespace OtelAi.Engine.Extensions.Auth;

/// <summary>An extension that decides whether a request to one of our servers comes from an allowed client.</summary>
public interface IServerAuthenticator
{
    /// <summary>True when the request's headers (gRPC metadata included) carry valid credentials. Must not log them.</summary>
    bool Authenticate(IHeaderDictionary headers);
}

/// <summary>An extension that adds credentials to the requests an exporter sends.</summary>
public interface IClientAuthenticator
{
    void Apply(HttpRequestHeaders headers);
}

/// <summary>otelcol's configauth block: <c>auth: {authenticator: bearertokenauth}</c> on servers and clients.</summary>
public sealed record AuthSettings : IConfigSection
{
    [ConfigDescription("Id of the authenticator extension (bearertokenauth, basicauth, headers_setter), listed under service.extensions.")]
    public ComponentId? Authenticator { get; init; }

    public IEnumerable<ConfigError> Validate()
    {
        if (Authenticator is null) yield return new ConfigError("authenticator", "name the authenticator extension, e.g. authenticator: bearertokenauth");
    }

    /// <summary>The started extension, as a server authenticator; the error says what to fix.</summary>
    public IServerAuthenticator ServerAuthenticator(IComponentHost host) =>
        Resolve<IServerAuthenticator>(host, "authenticates servers (bearertokenauth, basicauth)");

    /// <summary>The started extension, as a client authenticator; the error says what to fix.</summary>
    public IClientAuthenticator ClientAuthenticator(IComponentHost host) =>
        Resolve<IClientAuthenticator>(host, "authenticates clients (bearertokenauth, basicauth, headers_setter)");

    private T Resolve<T>(IComponentHost host, string what) where T : class
    {
        var id = Authenticator ?? throw new InvalidOperationException("auth.authenticator is not set");
        return host.GetExtension(id) switch
        {
            T authenticator => authenticator,
            null => throw new InvalidOperationException($"auth.authenticator: \"{id}\" is not a running extension (define it under extensions and list it in service.extensions)"),
            _ => throw new InvalidOperationException($"auth.authenticator: \"{id}\" is no extension that {what}"),
        };
    }
}
