using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Otlp;

namespace OtelAi.Engine.Extensions.Auth;

[ConfigDescription("Bearer tokens: servers accept requests whose header carries one of the tokens; exporters send the first.")]
public sealed record BearerTokenAuthConfig : ComponentConfig
{
    [ConfigDescription("Auth scheme written before the token (\"\" sends the token alone).")]
    public string Scheme { get; init; } = "Bearer";

    [ConfigDescription("Header that carries the token.")]
    public string Header { get; init; } = "Authorization";

    [ConfigDescription("The token (a secret: never logged).")]
    public string Token { get; init; } = "";

    [ConfigDescription("Several accepted tokens (servers); clients send the first.")]
    public List<string> Tokens { get; init; } = [];

    [ConfigDescription("File holding the token(s), one per line; re-read when it changes (rotated secrets). Takes precedence over token and tokens.")]
    public string Filename { get; init; } = "";

    public override IEnumerable<ConfigError> Validate()
    {
        if (Token.Length == 0 && Tokens.Count == 0 && Filename.Length == 0) yield return new ConfigError("token", "set token, tokens or filename");
        if (Token.Length > 0 && Tokens.Count > 0) yield return new ConfigError("tokens", "set token or tokens, not both");
        if (Header.Length == 0) yield return new ConfigError("header", "must not be empty");
    }
}

public sealed class BearerTokenAuthFactory : ExtensionFactory<BearerTokenAuthConfig>
{
    public override string Type => "bearertokenauth";

    protected override IComponent Create(ComponentCreateSettings settings, BearerTokenAuthConfig config) =>
        new BearerTokenAuth(settings, config, TimeProvider.System);
}

/// <summary>
/// The bearertokenauth extension. Tokens come from the config or a file that is checked for changes at most once a
/// second (on use), so a rotated secret takes effect without a restart; comparisons take constant time.
/// </summary>
internal sealed class BearerTokenAuth(ComponentCreateSettings settings, BearerTokenAuthConfig config, TimeProvider time)
    : IComponent, IServerAuthenticator, IClientAuthenticator
{
    private static readonly TimeSpan FileCheckInterval = TimeSpan.FromSeconds(1);
    private volatile byte[][] _expected = [];
    private volatile string _sent = "";
    private DateTime _fileWritten;
    private long _nextFileCheck;

    public Task StartAsync(IComponentHost host, CancellationToken cancellationToken)
    {
        if (config.Filename.Length > 0) ReadFile(throwOnError: true);
        else Use(config.Token.Length > 0 ? [config.Token] : config.Tokens);
        return Task.CompletedTask;
    }

    public Task ShutdownAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public bool Authenticate(IHeaderDictionary headers)
    {
        RefreshFromFile();
        var presented = Encoding.UTF8.GetBytes(headers[config.Header].ToString());
        var accepted = false;
        // Every token is compared, so the time taken does not tell which (or whether one) matched.
        foreach (var expected in _expected) accepted |= CryptographicOperations.FixedTimeEquals(presented, expected);
        return accepted;
    }

    public void Apply(HttpRequestHeaders headers)
    {
        RefreshFromFile();
        headers.Remove(config.Header);
        headers.TryAddWithoutValidation(config.Header, _sent);
    }

    private string WithScheme(string token) => config.Scheme.Length > 0 ? $"{config.Scheme} {token}" : token;

    private void Use(IReadOnlyList<string> tokens)
    {
        _expected = tokens.Select(t => Encoding.UTF8.GetBytes(WithScheme(t))).ToArray();
        _sent = tokens.Count > 0 ? WithScheme(tokens[0]) : "";
    }

    private void RefreshFromFile()
    {
        if (config.Filename.Length == 0) return;
        var now = time.GetTimestamp();
        var next = Interlocked.Read(ref _nextFileCheck);
        if (now < next || Interlocked.CompareExchange(ref _nextFileCheck, now + (long)(FileCheckInterval.TotalSeconds * time.TimestampFrequency), next) != next) return;
        ReadFile(throwOnError: false);
    }

    private void ReadFile(bool throwOnError)
    {
        try
        {
            var written = File.GetLastWriteTimeUtc(config.Filename);
            if (written == _fileWritten && _expected.Length > 0) return;
            var tokens = File.ReadAllLines(config.Filename).Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
            if (tokens.Count == 0) throw new IOException("the file holds no token");
            Use(tokens);
            _fileWritten = written;
            if (!throwOnError) settings.Logger.LogInformation("{Extension}: read {Count} token(s) from {File}", settings.Id, tokens.Count, config.Filename);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            if (throwOnError) throw new InvalidOperationException($"{settings.Id}: cannot read the token file \"{config.Filename}\": {ex.Message}", ex);
            // Keep the tokens read before: a file being replaced is briefly absent.
            settings.Logger.LogWarning("{Extension}: cannot read the token file {File}, keeping the previous tokens: {Error}", settings.Id, config.Filename, ex.Message);
        }
    }
}
