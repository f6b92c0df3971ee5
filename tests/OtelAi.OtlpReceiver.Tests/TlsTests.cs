using OtelAi.Engine.Settings;
using OtelAi.Engine.Config;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Google.Protobuf;
using OtelAi.Otlp.Grpc;
using OtelAi.Receivers.Otlp;
using OtelAi.TestSupport;
using static OtelAi.OtlpReceiver.Tests.WireClients;

namespace OtelAi.OtlpReceiver.Tests;

/// <summary>TLS and mutual TLS on both protocols, with a CA and certificates made in the test.</summary>
public sealed class TlsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("otelai-tls-").FullName;
    private readonly X509Certificate2 _ca;
    private readonly X509Certificate2 _client;

    public TlsTests()
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=otelai test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        _ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        File.WriteAllText(Path.Combine(_dir, "ca.pem"), _ca.ExportCertificatePem());

        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        var (server, serverKey) = Issue("CN=localhost", san.Build(), "1.3.6.1.5.5.7.3.1");
        File.WriteAllText(Path.Combine(_dir, "server.pem"), server.ExportCertificatePem());
        File.WriteAllText(Path.Combine(_dir, "server.key"), serverKey.ExportPkcs8PrivateKeyPem());
        var (client, clientKey) = Issue("CN=sdk-client", null, "1.3.6.1.5.5.7.3.2");
        _client = X509CertificateLoader.LoadPkcs12(client.CopyWithPrivateKey(clientKey).Export(X509ContentType.Pkcs12), null);
    }

    private (X509Certificate2 Certificate, ECDsa Key) Issue(string subject, X509Extension? san, string usageOid)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        if (san is not null) request.CertificateExtensions.Add(san);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usageOid)], false));
        var serial = RandomNumberGenerator.GetBytes(8);
        return (request.Create(_ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(10), serial), key);
    }

    private TlsServerSettings ServerTls(bool mutual) => new()
    {
        CertFile = Path.Combine(_dir, "server.pem"),
        KeyFile = Path.Combine(_dir, "server.key"),
        ClientCaFile = mutual ? Path.Combine(_dir, "ca.pem") : "",
    };

    private HttpClient Client(bool withClientCertificate, Version version)
    {
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
        {
            if (certificate is null) return false;
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(_ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) == 0 && chain.Build(new X509Certificate2(certificate));
        };
        if (withClientCertificate) handler.SslOptions.ClientCertificates = new X509CertificateCollection { _client };
        return new HttpClient(handler) { DefaultRequestVersion = version, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
    }

    [Fact]
    public async Task GrpcAndHttp_ServeOverTls()
    {
        await using var harness = await ReceiverHarness.StartAsync(grpc: c => c with { Tls = ServerTls(false) }, http: c => c with { Server = c.Server with { Tls = ServerTls(false) } });
        using var h2 = Client(false, HttpVersion.Version20);
        var reply = await CallGrpcAsync(h2, $"https://localhost:{harness.GrpcPort}", TracesMethod, Frame(SampleData.Traces(3)));
        Assert.Equal(GrpcStatusCode.OK, reply.Status.Code);
        Assert.Equal(HttpVersion.Version20, reply.Response.Version);

        using var h1 = Client(false, HttpVersion.Version11);
        var post = await PostAsync(h1, $"https://127.0.0.1:{harness.HttpPort}/v1/traces", SampleData.Traces(2).ToByteArray(), "application/x-protobuf");
        Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        Assert.Equal(5, harness.Traces.Items);

        // Plaintext against the TLS port fails rather than being served.
        using var plain = CreateH2c();
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => CallGrpcAsync(plain, $"http://127.0.0.1:{harness.GrpcPort}", TracesMethod, Frame(SampleData.Traces(1))));
    }

    /// <summary>The serial number of the certificate a new connection to <paramref name="url"/> is shown.</summary>
    private async Task<string> ServedSerialAsync(string url)
    {
        string? serial = null;
        using var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
        {
            serial = certificate is null ? null : new X509Certificate2(certificate).SerialNumber;
            return true;
        };
        using var http = new HttpClient(handler);
        using var _ = await http.GetAsync(url);
        return serial ?? throw new InvalidOperationException("no certificate was presented");
    }

    private string IssueServerCertificate()
    {
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        var (server, serverKey) = Issue("CN=localhost", san.Build(), "1.3.6.1.5.5.7.3.1");
        File.WriteAllText(Path.Combine(_dir, "server.key"), serverKey.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(Path.Combine(_dir, "server.pem"), server.ExportCertificatePem());
        var later = DateTime.UtcNow.AddSeconds(5);
        File.SetLastWriteTimeUtc(Path.Combine(_dir, "server.key"), later);
        File.SetLastWriteTimeUtc(Path.Combine(_dir, "server.pem"), later);
        return server.SerialNumber;
    }

    [Fact]
    public async Task A_rotated_certificate_is_served_after_reload_interval_on_receivers_health_check_and_self_metrics()
    {
        var first = IssueServerCertificate();
        var tls = ServerTls(false) with { ReloadInterval = TimeSpan.FromMilliseconds(100) };
        await using var harness = await ReceiverHarness.StartAsync(http: c => c with { Server = c.Server with { Tls = tls } });
        var (healthPort, metricsPort) = (TestPorts.GetFree(), TestPorts.GetFree());
        await using var collector = OtelAi.Engine.Collector.FromYaml($$"""
            extensions:
              health_check:
                endpoint: 127.0.0.1:{{healthPort}}
                tls:
                  cert_file: {{tls.CertFile}}
                  key_file: {{tls.KeyFile}}
                  reload_interval: 100ms
            receivers:
              otlp:
                protocols:
                  http:
                    endpoint: 127.0.0.1:0
            exporters:
              debug:
            service:
              extensions: [health_check]
              telemetry:
                metrics:
                  address: 127.0.0.1:{{metricsPort}}
                  tls:
                    cert_file: {{tls.CertFile}}
                    key_file: {{tls.KeyFile}}
                    reload_interval: 100ms
              pipelines:
                traces:
                  receivers: [otlp]
                  exporters: [debug]
            """, new CaptureExporterFactory().WithBuiltins(), new OtelAi.Engine.CollectorOptions { LoggerFactory = Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance });
        await collector.StartAsync();
        var (receiverUrl, healthUrl, metricsUrl) = ($"https://127.0.0.1:{harness.HttpPort}/v1/traces", $"https://127.0.0.1:{healthPort}/", $"https://127.0.0.1:{metricsPort}/metrics");
        Assert.Equal(first, await ServedSerialAsync(receiverUrl));
        Assert.Equal(first, await ServedSerialAsync(healthUrl));
        Assert.Equal(first, await ServedSerialAsync(metricsUrl));

        var second = IssueServerCertificate();
        await Task.Delay(300);
        // The first handshake after the interval triggers the check; allow it one more.
        for (var attempt = 0; attempt < 10 && await ServedSerialAsync(receiverUrl) != second; attempt++) await Task.Delay(200);
        Assert.Equal(second, await ServedSerialAsync(receiverUrl));
        for (var attempt = 0; attempt < 10 && await ServedSerialAsync(healthUrl) != second; attempt++) await Task.Delay(200);
        Assert.Equal(second, await ServedSerialAsync(healthUrl));
        for (var attempt = 0; attempt < 10 && await ServedSerialAsync(metricsUrl) != second; attempt++) await Task.Delay(200);
        Assert.Equal(second, await ServedSerialAsync(metricsUrl));
        await collector.StopAsync();
    }

    [Fact]
    public async Task MutualTls_RequiresAClientCertificateFromTheConfiguredCa()
    {
        await using var harness = await ReceiverHarness.StartAsync(grpc: c => c with { Tls = ServerTls(true) }, http: c => c with { Server = c.Server with { Tls = ServerTls(true) } });
        using var anonymous = Client(false, HttpVersion.Version20);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() =>
            CallGrpcAsync(anonymous, $"https://localhost:{harness.GrpcPort}", TracesMethod, Frame(SampleData.Traces(1))));

        using var authenticated = Client(true, HttpVersion.Version20);
        var reply = await CallGrpcAsync(authenticated, $"https://localhost:{harness.GrpcPort}", TracesMethod, Frame(SampleData.Traces(4)));
        Assert.Equal(GrpcStatusCode.OK, reply.Status.Code);
        using var authenticatedHttp = Client(true, HttpVersion.Version11);
        var post = await PostAsync(authenticatedHttp, $"https://localhost:{harness.HttpPort}/v1/traces", SampleData.Traces(1).ToByteArray(), "application/x-protobuf");
        Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        Assert.Equal(5, harness.Traces.Items);
    }

    [Fact]
    public void Validation_NamesMissingOrBadTlsSettings()
    {
        var config = new OtlpReceiverConfig
        {
            Protocols = new OtlpProtocolsConfig { Grpc = new OtlpGrpcConfig { Server = new() { Endpoint = "localhost:4317", Tls = new TlsServerSettings { CertFile = "a.pem", MinVersion = "1.5" } } } },
        };
        var errors = ConfigValidation.Validate(config).ToList();
        Assert.Contains(errors, e => e.Path == "protocols.grpc.tls.cert_file");
        Assert.Contains(errors, e => e.Path == "protocols.grpc.tls.min_version" && e.Message.Contains("1.5"));
        Assert.Contains(ConfigValidation.Validate(new OtlpReceiverConfig()), e => e.Path == "protocols");
        Assert.Contains(ConfigValidation.Validate(new OtlpReceiverConfig { Protocols = new OtlpProtocolsConfig { Http = new OtlpHttpConfig { Server = new() { Endpoint = "nope" } } } }),
            e => e.Path == "protocols.http.endpoint");
    }

    public void Dispose()
    {
        _ca.Dispose();
        _client.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
