using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Otlp;

namespace OtelAi.Engine.Extensions.Auth;

public sealed record HtpasswdConfig : IConfigSection
{
    [ConfigDescription("An htpasswd file: user:hash lines (bcrypt $2y$/$2b$/$2a$, {SHA}, or the password itself).")]
    public string File { get; init; } = "";

    [ConfigDescription("htpasswd lines written in the config (e.g. ${env:USER}:${env:PASSWORD}); combined with file.")]
    public string Inline { get; init; } = "";

    public IEnumerable<ConfigError> Validate()
    {
        if (File.Length == 0 && Inline.Length == 0) yield return new ConfigError("", "set file or inline");
    }
}

public sealed record ClientAuthConfig : IConfigSection
{
    public string Username { get; init; } = "";

    [ConfigDescription("A secret: never logged.")]
    public string Password { get; init; } = "";

    public IEnumerable<ConfigError> Validate()
    {
        if (Username.Length == 0) yield return new ConfigError("username", "must be set");
        if (Username.Contains(':')) yield return new ConfigError("username", "must not contain ':' (RFC 7617)");
    }
}

[ConfigDescription("HTTP Basic authentication: servers check users against htpasswd entries; exporters send client_auth.")]
public sealed record BasicAuthConfig : ComponentConfig
{
    public HtpasswdConfig? Htpasswd { get; init; }

    public ClientAuthConfig? ClientAuth { get; init; }

    public override IEnumerable<ConfigError> Validate()
    {
        if (Htpasswd is null && ClientAuth is null) yield return new ConfigError("htpasswd", "set htpasswd (servers) or client_auth (exporters)");
    }
}

public sealed class BasicAuthFactory : ExtensionFactory<BasicAuthConfig>
{
    public override string Type => "basicauth";

    protected override IComponent Create(ComponentCreateSettings settings, BasicAuthConfig config) =>
        new BasicAuth(settings, config);
}

/// <summary>
/// The basicauth extension. Server side, the Authorization header's user must have an htpasswd entry whose hash the
/// password matches (bcrypt, {SHA} or plain, compared in constant time); every failure looks the same to the client.
/// </summary>
internal sealed class BasicAuth(ComponentCreateSettings settings, BasicAuthConfig config) : IComponent, IServerAuthenticator, IClientAuthenticator
{
    private Dictionary<string, string> _users = new(StringComparer.Ordinal);
    private string? _clientHeader;

    public Task StartAsync(IComponentHost host, CancellationToken cancellationToken)
    {
        if (config.Htpasswd is { } htpasswd)
        {
            var lines = new List<string>();
            if (htpasswd.File.Length > 0)
            {
                try { lines.AddRange(System.IO.File.ReadAllLines(htpasswd.File)); }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    throw new InvalidOperationException($"{settings.Id}: cannot read htpasswd.file \"{htpasswd.File}\": {ex.Message}", ex);
                }
            }
            lines.AddRange(htpasswd.Inline.Split('\n'));
            foreach (var line in lines.Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')))
            {
                var colon = line.IndexOf(':');
                if (colon > 0) _users[line[..colon]] = line[(colon + 1)..];
            }
        }
        if (config.ClientAuth is { } client)
            _clientHeader = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{client.Username}:{client.Password}"));
        return Task.CompletedTask;
    }

    public Task ShutdownAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public bool Authenticate(IHeaderDictionary headers)
    {
        var header = headers.Authorization.ToString();
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)) return false;
        string decoded;
        try { decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..].Trim())); }
        catch (FormatException) { return false; }
        var colon = decoded.IndexOf(':');
        if (colon <= 0 || !_users.TryGetValue(decoded[..colon], out var hash)) return false;
        return Matches(decoded[(colon + 1)..], hash);
    }

    /// <summary>Whether a password matches an htpasswd hash.</summary>
    internal static bool Matches(string password, string hash)
    {
        if (hash.StartsWith("$2", StringComparison.Ordinal))
        {
            try { return BCrypt.Net.BCrypt.Verify(password, hash); }
            catch (BCrypt.Net.SaltParseException) { return false; }
        }
        if (hash.StartsWith("{SHA}", StringComparison.Ordinal))
            return FixedTimeEquals(Convert.ToBase64String(SHA1.HashData(Encoding.UTF8.GetBytes(password))), hash["{SHA}".Length..]);
        return FixedTimeEquals(password, hash);
    }

    private static bool FixedTimeEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));

    public void Apply(HttpRequestHeaders headers)
    {
        if (_clientHeader is null) throw new InvalidOperationException($"{settings.Id} has no client_auth: it cannot authenticate an exporter");
        headers.Remove("Authorization");
        headers.TryAddWithoutValidation("Authorization", _clientHeader);
    }
}
