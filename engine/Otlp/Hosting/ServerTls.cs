using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace OtelAi.Otlp.Hosting;

/// <summary>A server's TLS material, loaded: its certificate, the CA bundle client certificates must chain to (mTLS), the protocol versions.</summary>
public sealed record ServerTls(X509Certificate2 Certificate, X509Certificate2Collection? ClientCa, SslProtocols Protocols)
{
    /// <summary>Reads PEM files; a failure names the file and the cause.</summary>
    public static ServerTls Load(string certFile, string keyFile, string clientCaFile, SslProtocols protocols) =>
        new(LoadCertificate(certFile, keyFile), clientCaFile.Length > 0 ? LoadCaBundle(clientCaFile) : null, protocols);

    public bool IsTrustedClient(X509Certificate2? certificate)
    {
        if (certificate is null || ClientCa is null) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(ClientCa);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }

    private static X509Certificate2 LoadCertificate(string certFile, string keyFile)
    {
        try
        {
            using var pem = X509Certificate2.CreateFromPemFile(certFile, keyFile);
            // SslStream on Linux needs the key in a persisted (PKCS#12-backed) form, not an ephemeral PEM import.
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
        catch (Exception ex) when (ex is IOException or CryptographicException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"cannot load TLS certificate {certFile} with key {keyFile}: {ex.Message}", ex);
        }
    }

    private static X509Certificate2Collection LoadCaBundle(string path)
    {
        var bundle = new X509Certificate2Collection();
        try { bundle.ImportFromPemFile(path); }
        catch (Exception ex) when (ex is IOException or CryptographicException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"cannot load client CA file {path}: {ex.Message}", ex);
        }
        if (bundle.Count == 0) throw new InvalidOperationException($"client CA file {path} holds no certificate");
        return bundle;
    }
}
