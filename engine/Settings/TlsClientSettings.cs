using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using OtelAi.Engine.Config;

namespace OtelAi.Engine.Settings;

/// <summary>otelcol's configtls client settings (the <c>tls</c> block of every client).</summary>
public sealed record TlsClientSettings : IConfigSection
{
    [ConfigDescription("Connect without TLS. For gRPC clients this means plain-text HTTP/2 (an http:// endpoint implies it); HTTP clients follow the URL scheme.")]
    public bool Insecure { get; init; }

    [ConfigDescription("Use TLS but do not verify the server's certificate chain and host name.")]
    public bool InsecureSkipVerify { get; init; }

    [ConfigDescription("PEM file of CA certificates that verify the server (default: the system trust store).")]
    public string? CaFile { get; init; }

    [ConfigDescription("PEM client certificate for mutual TLS (with key_file).")]
    public string? CertFile { get; init; }

    [ConfigDescription("PEM private key of cert_file.")]
    public string? KeyFile { get; init; }

    [ConfigDescription("Server name to verify (and send as SNI) instead of the endpoint's host.")]
    public string? ServerNameOverride { get; init; }

    [ConfigDescription("Lowest TLS version accepted: \"1.2\" or \"1.3\".")]
    public string MinVersion { get; init; } = "1.2";

    public IEnumerable<ConfigError> Validate()
    {
        if (CertFile is null != KeyFile is null)
            yield return new("", "cert_file and key_file must be set together");
        foreach (var (key, file) in new[] { ("ca_file", CaFile), ("cert_file", CertFile), ("key_file", KeyFile) })
            if (file is not null && !File.Exists(file)) yield return new(key, $"file \"{file}\" does not exist");
        if (MinVersion is not ("1.2" or "1.3")) yield return new("min_version", $"unsupported TLS version \"{MinVersion}\" (use 1.2 or 1.3)");
    }

    /// <summary>The client TLS options for connections to <paramref name="host"/>.</summary>
    public SslClientAuthenticationOptions ToSslOptions(string host)
    {
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = ServerNameOverride ?? host,
            EnabledSslProtocols = MinVersion == "1.3" ? SslProtocols.Tls13 : SslProtocols.Tls12 | SslProtocols.Tls13,
        };
        if (CertFile is not null && KeyFile is not null)
            options.ClientCertificates = [X509Certificate2.CreateFromPemFile(CertFile, KeyFile)];
        if (InsecureSkipVerify)
        {
            options.RemoteCertificateValidationCallback = (_, _, _, _) => true;
            return options;
        }
        if (CaFile is not null)
        {
            var roots = new X509Certificate2Collection();
            roots.ImportFromPemFile(CaFile);
            options.CertificateChainPolicy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
            options.CertificateChainPolicy.CustomTrustStore.AddRange(roots);
        }
        if (ServerNameOverride is { } expectedName)
        {
            // SocketsHttpHandler checks the name against the URL's host, whatever TargetHost says: check the override ourselves.
            options.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                (errors & ~SslPolicyErrors.RemoteCertificateNameMismatch) == SslPolicyErrors.None
                && certificate is not null
                && (certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData())).MatchesHostname(expectedName);
        }
        return options;
    }
}
