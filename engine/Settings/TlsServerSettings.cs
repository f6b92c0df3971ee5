using System.Security.Authentication;
using OtelAi.Engine.Config;
using OtelAi.Otlp.Hosting;

namespace OtelAi.Engine.Settings;

/// <summary>otelcol's configtls ServerConfig (the <c>tls</c> block of every server): server certificate, optional client CA for mutual TLS, protocol versions.</summary>
public sealed record TlsServerSettings : IConfigSection
{
    public string CertFile { get; init; } = "";

    public string KeyFile { get; init; } = "";

    [ConfigDescription("Accepted; a server verifies clients with client_ca_file.")]
    public string CaFile { get; init; } = "";

    [ConfigDescription("CA bundle (PEM) that client certificates must chain to; setting it requires client certificates (mTLS).")]
    public string ClientCaFile { get; init; } = "";

    [ConfigDescription("Minimum TLS version: 1.2 (default) or 1.3.")]
    public string MinVersion { get; init; } = "";

    [ConfigDescription("Maximum TLS version: 1.2 or 1.3 (default: newest).")]
    public string MaxVersion { get; init; } = "";

    [ConfigDescription("How often the certificate and key files are checked for changes (a rotated certificate is served without a restart); 0 reads them once at start.")]
    public TimeSpan ReloadInterval { get; init; }

    public IEnumerable<ConfigError> Validate()
    {
        if (CertFile.Length == 0 || KeyFile.Length == 0)
            yield return new ConfigError("cert_file", "a TLS server needs both cert_file and key_file");
        if (!TryParseVersion(MinVersion, out _))
            yield return new ConfigError("min_version", $"unsupported TLS version \"{MinVersion}\" (use 1.2 or 1.3)");
        if (MaxVersion is not ("" or "1.2" or "1.3"))
            yield return new ConfigError("max_version", $"unsupported TLS version \"{MaxVersion}\" (use 1.2 or 1.3)");
    }

    /// <summary>Reads the certificate, key and client CA files (again every reload_interval when they changed).</summary>
    public ServerTls Load() => ServerTls.Load(CertFile, KeyFile, ClientCaFile, Protocols(), ReloadInterval);

    /// <summary>Protocols from min_version..max_version (TLS 1.0/1.1 are not offered by this runtime's policy).</summary>
    private SslProtocols Protocols()
    {
        TryParseVersion(MinVersion, out var min);
        TryParseVersion(MaxVersion, out var max);
        var protocols = SslProtocols.None;
        if ((min ?? SslProtocols.Tls12) <= SslProtocols.Tls12 && (max ?? SslProtocols.Tls13) >= SslProtocols.Tls12) protocols |= SslProtocols.Tls12;
        if ((max ?? SslProtocols.Tls13) >= SslProtocols.Tls13) protocols |= SslProtocols.Tls13;
        return protocols;
    }

    private static bool TryParseVersion(string text, out SslProtocols? version)
    {
        version = text switch
        {
            "" => null,
            "1.0" or "1.1" or "1.2" => SslProtocols.Tls12, // older versions are raised to 1.2
            "1.3" => SslProtocols.Tls13,
            _ => SslProtocols.None,
        };
        return version != SslProtocols.None;
    }
}
