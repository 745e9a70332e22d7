using System.Text;
using Cdc.Infrastructure.Source.Etcd;
using Cdc.Testing;
using Cdc.Testing.FakeMilvus;

namespace Cdc.Infrastructure.Tests.Source.Etcd;

/// <summary>enableTLS against private etcds that serve https, with and without client certificates (mutual TLS).</summary>
public sealed class EtcdTlsTests : IDisposable
{
    private readonly TestCertificateAuthority _ca = new("cdc-etcd-test-ca");

    public void Dispose() => _ca.Dispose();

    [Theory]
    [InlineData("1.2")]
    [InlineData("1.3")]
    public async Task With_the_CA_and_a_client_certificate_the_client_talks_mutual_TLS(string minVersion)
    {
        var ct = EtcdTestStore.Deadline(40);
        var client = _ca.IssueClient("root");
        await using var server = await StartTlsEtcdAsync(clientCertificates: true, ct);
        using var etcd = new EtcdClient(new EtcdOptions
        {
            Address = [$"127.0.0.1:{server.ClientPort}"], // no scheme: https because of EnableTls
            EnableTls = true,
            TlsCaCertPath = _ca.CertificatePemPath,
            TlsCertPath = client.CertificatePemPath,
            TlsKeyPath = client.KeyPemPath,
            TlsMinVersion = minVersion,
            RequestTimeout = TimeSpan.FromSeconds(10),
        }, TimeProvider.System);

        var revision = await etcd.PutAsync("by-dev/meta/k", Encoding.UTF8.GetBytes("v"), ct);
        var change = await etcd.WatchAsync("by-dev/meta/", revision, true, ct).FirstAsync(ct);

        Assert.Equal("v", Encoding.UTF8.GetString((await etcd.GetAsync("by-dev/meta/k", ct))!.Value.Span));
        Assert.Equal(revision, change.ModRevision);
    }

    [Fact]
    public async Task Without_a_client_certificate_an_etcd_that_asks_for_one_is_not_reached()
    {
        var ct = EtcdTestStore.Deadline(40);
        await using var server = await StartTlsEtcdAsync(clientCertificates: true, ct);
        using var etcd = new EtcdClient(new EtcdOptions
        {
            Address = [server.Url],
            EnableTls = true,
            TlsCaCertPath = _ca.CertificatePemPath,
            RequestTimeout = TimeSpan.FromSeconds(10),
        }, TimeProvider.System);

        var error = await Assert.ThrowsAsync<EtcdException>(() => etcd.GetAsync("by-dev/meta/k", ct));
        Assert.Contains(server.Url, error.Message);
    }

    [Fact]
    public async Task One_way_TLS_with_user_and_password()
    {
        var ct = EtcdTestStore.Deadline(40);
        await using var server = await StartTlsEtcdAsync(clientCertificates: false, ct);
        await server.EnableAuthAsync("root", "tls-Pa55", ct, _ca.CertificatePemPath);
        var options = new EtcdOptions
        {
            Address = [server.Url],
            EnableTls = true,
            TlsCaCertPath = _ca.CertificatePemPath,
            RequestTimeout = TimeSpan.FromSeconds(10),
        };
        using var anonymous = new EtcdClient(options, TimeProvider.System);
        using var etcd = new EtcdClient(options with { EnableAuth = true, Username = "root", Password = "tls-Pa55" }, TimeProvider.System);

        await Assert.ThrowsAsync<EtcdException>(() => anonymous.PutAsync("by-dev/meta/k", Encoding.UTF8.GetBytes("x"), ct));
        var revision = await etcd.PutAsync("by-dev/meta/k", Encoding.UTF8.GetBytes("v"), ct);
        var change = await etcd.WatchAsync("by-dev/meta/", revision, true, ct).FirstAsync(ct);

        Assert.Equal("v", Encoding.UTF8.GetString(change.Value.Span));
        Assert.Equal("v", Encoding.UTF8.GetString((await etcd.GetAsync("by-dev/meta/k", ct))!.Value.Span));
    }

    [Fact]
    public async Task A_server_certificate_from_another_CA_is_refused()
    {
        var ct = EtcdTestStore.Deadline(40);
        using var otherCa = new TestCertificateAuthority("other-ca");
        var client = _ca.IssueClient("root");
        await using var server = await StartTlsEtcdAsync(clientCertificates: true, ct);
        using var etcd = new EtcdClient(new EtcdOptions
        {
            Address = [server.Url],
            EnableTls = true,
            TlsCaCertPath = otherCa.CertificatePemPath,
            TlsCertPath = client.CertificatePemPath,
            TlsKeyPath = client.KeyPemPath,
            RequestTimeout = TimeSpan.FromSeconds(10),
        }, TimeProvider.System);

        await Assert.ThrowsAsync<EtcdException>(() => etcd.GetAsync("by-dev/meta/k", ct));
    }

    /// <summary>An etcd serving https with a certificate of <see cref="_ca"/> (for localhost and 127.0.0.1).</summary>
    private Task<EtcdProcess> StartTlsEtcdAsync(bool clientCertificates, CancellationToken ct)
    {
        var certificate = _ca.IssueServer("localhost");
        string[] arguments = ["--cert-file", certificate.CertificatePemPath, "--key-file", certificate.KeyPemPath];
        if (clientCertificates) arguments = [.. arguments, "--trusted-ca-file", _ca.CertificatePemPath, "--client-cert-auth"];
        return EtcdProcess.StartAsync(arguments, ct, scheme: "https");
    }
}
