using OtelAi.Engine.Settings;
using OtelAi.Otlp.Hosting;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Logging;
using OtelAi.Engine.Service;

namespace OtelAi.Receivers.Otlp;

/// <summary>An otelcol <c>host:port</c> endpoint as Kestrel listen options.</summary>
internal readonly record struct ListenEndpoint(string Host, int Port)
{
    public static bool TryParse(string endpoint, out ListenEndpoint parsed, out string? error)
    {
        var ok = KestrelHosting.TryParseEndpoint(endpoint, out var host, out var port, out error);
        parsed = ok ? new ListenEndpoint(host, port) : default;
        return ok;
    }

    public void Listen(KestrelServerOptions options, Action<ListenOptions> configure) => KestrelHosting.Listen(options, Host, Port, configure);
}

/// <summary>Builds the Kestrel servers of the receiver: minimal hosting, no logging, one terminal request handler.</summary>
internal static class KestrelHost
{
    public static WebApplication Build(
        ListenEndpoint endpoint,
        HttpProtocols plaintextProtocols,
        TlsServerSettings? tls,
        Action<KestrelServerOptions> configureLimits,
        RequestDelegate handler,
        ILogger logger)
    {
        var builder = KestrelHosting.CreateBuilder();
        var certificate = tls is null ? null : LoadCertificate(tls);
        var clientCa = tls is { ClientCaFile.Length: > 0 } ? LoadCaBundle(tls.ClientCaFile) : null;
        builder.WebHost.ConfigureKestrel(options =>
        {
            options.AddServerHeader = false;
            configureLimits(options);
            endpoint.Listen(options, listen =>
            {
                if (tls is null)
                {
                    listen.Protocols = plaintextProtocols;
                    return;
                }
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(new HttpsConnectionAdapterOptions
                {
                    ServerCertificate = certificate,
                    SslProtocols = tls.Protocols(),
                    ClientCertificateMode = clientCa is null ? ClientCertificateMode.NoCertificate : ClientCertificateMode.RequireCertificate,
                    ClientCertificateValidation = clientCa is null ? null : (cert, _, _) => ChainsTo(cert, clientCa),
                });
            });
        });
        var app = builder.Build();
        app.Run(async context =>
        {
            try
            {
                await handler(context);
            }
            catch (Exception ex) when (!context.RequestAborted.IsCancellationRequested)
            {
                // A bug or an unexpected failure: log it; Kestrel answers 500 (or resets the stream) for this request only.
                logger.LogError(ex, "unexpected failure serving {Method} {Path}", context.Request.Method, context.Request.Path.Value);
                throw;
            }
        });
        return app;
    }

    private static X509Certificate2 LoadCertificate(TlsServerSettings tls)
    {
        try
        {
            using var pem = X509Certificate2.CreateFromPemFile(tls.CertFile, tls.KeyFile);
            // SslStream on Linux needs the key in a persisted (PKCS#12-backed) form, not an ephemeral PEM import.
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
        catch (Exception ex) when (ex is IOException or System.Security.Cryptography.CryptographicException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"cannot load TLS certificate {tls.CertFile} with key {tls.KeyFile}: {ex.Message}", ex);
        }
    }

    private static X509Certificate2Collection LoadCaBundle(string path)
    {
        var bundle = new X509Certificate2Collection();
        try { bundle.ImportFromPemFile(path); }
        catch (Exception ex) when (ex is IOException or System.Security.Cryptography.CryptographicException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"cannot load client CA file {path}: {ex.Message}", ex);
        }
        if (bundle.Count == 0) throw new InvalidOperationException($"client CA file {path} holds no certificate");
        return bundle;
    }

    private static bool ChainsTo(X509Certificate2? certificate, X509Certificate2Collection roots)
    {
        if (certificate is null) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }
}
