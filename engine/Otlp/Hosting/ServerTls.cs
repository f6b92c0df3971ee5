using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace OtelAi.Otlp.Hosting;

/// <summary>
/// A server's TLS material: its certificate, the CA bundle client certificates must chain to (mTLS), the protocol
/// versions. With a reload interval the certificate and key files are checked that often (on the next handshake
/// after it passed) and read again when they changed, so a rotated certificate is served without a restart; a
/// file being replaced that cannot be read yet leaves the previous certificate in use.
/// </summary>
public sealed class ServerTls
{
    private readonly string _certFile;
    private readonly string _keyFile;
    private readonly TimeSpan _reloadInterval;
    private readonly TimeProvider _time;
    private readonly Lock _reload = new();
    private X509Certificate2 _certificate;
    private (DateTime Cert, DateTime Key) _written;
    private long _nextCheck;

    private ServerTls(string certFile, string keyFile, X509Certificate2Collection? clientCa, SslProtocols protocols, TimeSpan reloadInterval, TimeProvider time)
    {
        (_certFile, _keyFile, _reloadInterval, _time) = (certFile, keyFile, reloadInterval, time);
        _written = Written();
        _certificate = LoadCertificate(certFile, keyFile);
        ClientCa = clientCa;
        Protocols = protocols;
        _nextCheck = NextCheck();
    }

    public X509Certificate2Collection? ClientCa { get; }

    public SslProtocols Protocols { get; }

    /// <summary>The certificate to present now (re-read from its files first when the reload interval passed and they changed).</summary>
    public X509Certificate2 Certificate
    {
        get
        {
            if (_reloadInterval > TimeSpan.Zero && _time.GetTimestamp() >= Interlocked.Read(ref _nextCheck)) Reload();
            return Volatile.Read(ref _certificate);
        }
    }

    /// <summary>Reads PEM files; a failure names the file and the cause.</summary>
    public static ServerTls Load(string certFile, string keyFile, string clientCaFile, SslProtocols protocols, TimeSpan reloadInterval = default, TimeProvider? time = null) =>
        new(certFile, keyFile, clientCaFile.Length > 0 ? LoadCaBundle(clientCaFile) : null, protocols, reloadInterval, time ?? TimeProvider.System);

    private void Reload()
    {
        lock (_reload)
        {
            if (_time.GetTimestamp() < _nextCheck) return;
            _nextCheck = NextCheck();
            try
            {
                var written = Written();
                if (written == _written) return;
                Volatile.Write(ref _certificate, LoadCertificate(_certFile, _keyFile));
                _written = written;
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException or UnauthorizedAccessException)
            {
                // A certificate and key replaced one after the other do not match for a moment: try again next interval.
            }
        }
    }

    private (DateTime, DateTime) Written() => (File.GetLastWriteTimeUtc(_certFile), File.GetLastWriteTimeUtc(_keyFile));

    private long NextCheck() => _time.GetTimestamp() + (long)(_reloadInterval.TotalSeconds * _time.TimestampFrequency);

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
