using OtelAi.Engine.Config;
using OtelAi.Engine.Settings;
using OtelAi.Otlp;
using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using OtelAi.Engine.Components;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.Exporter;
using OtelAi.Exporters.Otlp;
using OtelAi.Exporters.OtlpHttp;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Receivers.Otlp;
using OtelAi.TestSupport;

namespace OtelAi.OtlpExporter.Tests;

/// <summary>The exporters' tls settings against our receiver serving TLS (and requiring client certificates for mTLS).</summary>
public sealed class TlsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("otelai-tls-").FullName;
    private readonly string _caFile;
    private readonly string _serverCert;
    private readonly string _serverKey;
    private readonly string _clientCert;
    private readonly string _clientKey;

    public TlsTests()
    {
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=otelai test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        _caFile = Write("ca.pem", ca.ExportCertificatePem());
        // The server certificate names a host we never dial, so plain verification fails unless server_name_override says it.
        (_serverCert, _serverKey) = Issue(ca, caKey, "server", "otel-backend.test", new Oid("1.3.6.1.5.5.7.3.1"));
        (_clientCert, _clientKey) = Issue(ca, caKey, "client", "app-1", new Oid("1.3.6.1.5.5.7.3.2"));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Write(string name, string text)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, text);
        return path;
    }

    private (string Cert, string Key) Issue(X509Certificate2 ca, RSA caKey, string name, string dnsName, Oid usage)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={dnsName}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(dnsName);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([usage], false));
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        var serial = RandomNumberGenerator.GetBytes(8);
        using var cert = request.Create(ca.SubjectName, X509SignatureGenerator.CreateForRSA(caKey, RSASignaturePadding.Pkcs1),
            DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30), serial);
        return (Write($"{name}.pem", cert.ExportCertificatePem()), Write($"{name}-key.pem", key.ExportPkcs8PrivateKeyPem()));
    }

    private async Task<(IComponent Receiver, Sink<ExportTraceServiceRequest> Sink, int GrpcPort, int HttpPort)> StartReceiverAsync(bool requireClientCert)
    {
        var tls = new TlsServerSettings { CertFile = _serverCert, KeyFile = _serverKey, ClientCaFile = requireClientCert ? _caFile : "" };
        var (grpcPort, httpPort) = (TestPorts.GetFree(), TestPorts.GetFree());
        var config = new OtlpReceiverConfig
        {
            Protocols = new OtlpProtocolsConfig
            {
                Grpc = new OtlpGrpcConfig { Server = new() { Endpoint = $"127.0.0.1:{grpcPort}", Tls = tls } },
                Http = new OtlpHttpConfig { Server = new() { Endpoint = $"127.0.0.1:{httpPort}", Tls = tls } },
            },
        };
        var sink = new Sink<ExportTraceServiceRequest>();
        var receiver = new OtlpReceiverFactory().CreateReceiver(TestSettings.For(ComponentId.Parse("otlp"), ComponentKind.Receiver), config,
            new ReceiverConsumers(sink, null, null));
        await receiver.StartAsync(new TestHost(), CancellationToken.None);
        return (receiver, sink, grpcPort, httpPort);
    }

    private static async Task SendAsync(IExporterFactory factory, Engine.Config.ComponentConfig config, ExportTraceServiceRequest data)
    {
        Assert.Empty(ConfigValidation.Validate(config));
        var exporter = factory.CreateExporter<ExportTraceServiceRequest>(Settings.For("otlp/tls", ComponentKind.Exporter, new CapturingLogger()), config);
        await exporter.StartAsync(new TestHost(), CancellationToken.None);
        try { await exporter.ConsumeAsync(data, CancellationToken.None); }
        finally { await exporter.ShutdownAsync(CancellationToken.None); }
    }

    private static readonly QueueConfig NoQueue = new() { Enabled = false };
    private static readonly RetryConfig NoRetry = new() { Enabled = false };

    [Fact]
    public async Task Grpc_over_tls_verifies_the_server_with_ca_file_and_server_name_override()
    {
        var (receiver, sink, grpcPort, _) = await StartReceiverAsync(requireClientCert: false);
        var data = SampleData.Traces(3);
        var verified = new OtlpExporterConfig
        {
            Client = new GrpcClientSettings { Endpoint = $"127.0.0.1:{grpcPort}", Tls = new TlsClientSettings { CaFile = _caFile, ServerNameOverride = "otel-backend.test" } },
            SendingQueue = NoQueue,
            RetryOnFailure = NoRetry,
        };
        await SendAsync(new OtlpExporterFactory(), verified, data.Clone());
        Assert.Equal(data, Assert.Single(sink.Payloads));

        // Without the override the name does not match; without ca_file the issuer is unknown: both refused.
        var wrongName = await Assert.ThrowsAsync<RetryableDataException>(() => SendAsync(new OtlpExporterFactory(),
            verified with { Client = verified.Client with { Tls = new TlsClientSettings { CaFile = _caFile } } }, data.Clone()));
        Assert.Contains("SSL", wrongName.Message, StringComparison.OrdinalIgnoreCase);
        await Assert.ThrowsAsync<RetryableDataException>(() => SendAsync(new OtlpExporterFactory(),
            verified with { Client = verified.Client with { Tls = new TlsClientSettings { ServerNameOverride = "otel-backend.test" } } }, data.Clone()));

        await SendAsync(new OtlpExporterFactory(), verified with { Client = verified.Client with { Tls = new TlsClientSettings { InsecureSkipVerify = true } } }, data.Clone());
        Assert.Equal(2, sink.Received.Count);
        await receiver.ShutdownAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Mutual_tls_sends_the_client_certificate_over_grpc_and_http()
    {
        var (receiver, sink, grpcPort, httpPort) = await StartReceiverAsync(requireClientCert: true);
        var tls = new TlsClientSettings { CaFile = _caFile, ServerNameOverride = "otel-backend.test", CertFile = _clientCert, KeyFile = _clientKey };

        await SendAsync(new OtlpExporterFactory(), new OtlpExporterConfig { Client = new GrpcClientSettings { Endpoint = $"https://127.0.0.1:{grpcPort}", Tls = tls }, SendingQueue = NoQueue, RetryOnFailure = NoRetry }, SampleData.Traces(2));
        await SendAsync(new OtlpHttpExporterFactory(), new OtlpHttpExporterConfig { Client = new HttpClientSettings { Endpoint = $"https://127.0.0.1:{httpPort}", Tls = tls }, SendingQueue = NoQueue, RetryOnFailure = NoRetry }, SampleData.Traces(4));
        Assert.Equal([2, 4], sink.Payloads.Select(r => r.ResourceSpans[0].ScopeSpans[0].Spans.Count));

        // The same without a client certificate is turned away by the server.
        await Assert.ThrowsAnyAsync<Exception>(() => SendAsync(new OtlpExporterFactory(),
            new OtlpExporterConfig { Client = new GrpcClientSettings { Endpoint = $"https://127.0.0.1:{grpcPort}", Tls = tls with { CertFile = null, KeyFile = null } }, SendingQueue = NoQueue, RetryOnFailure = NoRetry },
            SampleData.Traces(1)));
        Assert.Equal(2, sink.Received.Count);
        await receiver.ShutdownAsync(CancellationToken.None);
    }
}
