using Microsoft.AspNetCore.Http;
using OtelAi.Engine.Extensions.Auth;
using OtelAi.Engine.SelfTelemetry;

namespace OtelAi.Receivers.Otlp;

/// <summary>A server's auth check: the authenticator's verdict on a request, refusals counted.</summary>
internal sealed class AuthGate(IServerAuthenticator authenticator, Counter refused)
{
    /// <summary>The message refused clients get; it says nothing about which part of the credentials was wrong.</summary>
    public const string Refusal = "missing or invalid credentials";

    public bool Admits(HttpContext context)
    {
        if (authenticator.Authenticate(context.Request.Headers)) return true;
        refused.Add(1);
        return false;
    }
}
