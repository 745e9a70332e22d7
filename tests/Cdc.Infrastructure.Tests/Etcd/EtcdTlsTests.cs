using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Cdc.Infrastructure.Etcd;
using Cdc.Testing;

namespace Cdc.Infrastructure.Tests.Etcd;

/// <summary>enableTLS against a private etcd that serves https and asks for client certificates (mutual TLS).</summary>
public sealed class EtcdTlsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cdc-etcd-tls-").FullName;

    [Theory]
    [InlineData("1.2")]
    [InlineData("1.3")]
    public async Task With_the_CA_and_a_client_certificate_the_client_talks_mutual_TLS(string minVersion)
    {
        var ct = EtcdTestStore.Deadline(40);
        var files = WriteCertificates();
        await using var server = await StartTlsEtcdAsync(files, ct);
        using var etcd = new EtcdClient(new EtcdOptions
        {
            Address = [$"127.0.0.1:{server.ClientPort}"], // no scheme: https because of EnableTls
            EnableTls = true,
            TlsCaCertPath = files.Ca,
            TlsCertPath = files.ClientCert,
            TlsKeyPath = files.ClientKey,
            TlsMinVersion = minVersion,
            RequestTimeout = TimeSpan.FromSeconds(10),
        }, TimeProvider.System);

        var revision = await etcd.PutAsync("by-dev/meta/k", Encoding.UTF8.GetBytes("v"), ct);
        var change = await etcd.WatchAsync("by-dev/meta/", revision, true, ct).FirstAsync(ct);

        Assert.Equal("v", Encoding.UTF8.GetString((await etcd.GetAsync("by-dev/meta/k", ct))!.Value.Span));
        Assert.Equal(revision, change.ModRevision);
    }

    [Fact]
    public async Task A_server_certificate_from_another_CA_is_refused()
    {
        var ct = EtcdTestStore.Deadline(40);
        var files = WriteCertificates();
        var otherCa = WriteCertificates("other");
        await using var server = await StartTlsEtcdAsync(files, ct);
        using var etcd = new EtcdClient(new EtcdOptions
        {
            Address = [$"https://127.0.0.1:{server.ClientPort}"],
            EnableTls = true,
            TlsCaCertPath = otherCa.Ca,
            TlsCertPath = files.ClientCert,
            TlsKeyPath = files.ClientKey,
            RequestTimeout = TimeSpan.FromSeconds(10),
        }, TimeProvider.System);

        await Assert.ThrowsAsync<EtcdException>(() => etcd.GetAsync("by-dev/meta/k", ct));
    }

    private static Task<EtcdProcess> StartTlsEtcdAsync(CertificateFiles files, CancellationToken ct) =>
        EtcdProcess.StartAsync(
            ["--cert-file", files.ServerCert, "--key-file", files.ServerKey, "--trusted-ca-file", files.Ca, "--client-cert-auth"],
            ct, scheme: "https");

    private sealed record CertificateFiles(string Ca, string ServerCert, string ServerKey, string ClientCert, string ClientKey);

    /// <summary>A CA, a server certificate for 127.0.0.1 and a client certificate, as PEM files.</summary>
    private CertificateFiles WriteCertificates(string name = "main")
    {
        var now = DateTimeOffset.UtcNow;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest($"CN=cdc test CA {name}", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddHours(1));

        string Issue(string subject, bool server, out string keyPem)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
            // etcd's JSON gateway dials etcd's own gRPC port with the server certificate as its client certificate,
            // so with --client-cert-auth the server certificate needs clientAuth too (else: HTTP 503 "connection closed").
            var usages = new OidCollection { new Oid("1.3.6.1.5.5.7.3.2") };
            if (server) usages.Add(new Oid("1.3.6.1.5.5.7.3.1"));
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(usages, false));
            if (server)
            {
                var san = new SubjectAlternativeNameBuilder();
                san.AddIpAddress(IPAddress.Loopback);
                san.AddDnsName("localhost");
                request.CertificateExtensions.Add(san.Build());
            }
            var serial = RandomNumberGenerator.GetBytes(12);
            using var certificate = request.Create(ca, now.AddMinutes(-5), now.AddHours(1), serial);
            keyPem = key.ExportPkcs8PrivateKeyPem();
            return certificate.ExportCertificatePem();
        }

        string Write(string file, string text)
        {
            var path = Path.Combine(_dir, $"{name}-{file}");
            File.WriteAllText(path, text);
            return path;
        }

        var serverCert = Issue("CN=127.0.0.1", server: true, out var serverKey);
        var clientCert = Issue("CN=root", server: false, out var clientKey);
        return new CertificateFiles(
            Write("ca.pem", ca.ExportCertificatePem()),
            Write("server.pem", serverCert), Write("server-key.pem", serverKey),
            Write("client.pem", clientCert), Write("client-key.pem", clientKey));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
