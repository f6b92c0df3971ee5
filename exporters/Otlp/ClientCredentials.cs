using System.Net.Http.Headers;
using OtelAi.Engine.Components;
using OtelAi.Engine.Extensions.Auth;

namespace OtelAi.Exporters.Otlp;

/// <summary>An exporter's <c>auth</c> block: the authenticator found at start, applied to every request.</summary>
internal sealed class ClientCredentials(AuthSettings? settings)
{
    private IClientAuthenticator? _authenticator;

    public Task StartAsync(IComponentHost host)
    {
        _authenticator = settings?.ClientAuthenticator(host);
        return Task.CompletedTask;
    }

    /// <summary>After the configured headers, so the authenticator's headers win.</summary>
    public void Apply(HttpRequestHeaders headers) => _authenticator?.Apply(headers);
}
