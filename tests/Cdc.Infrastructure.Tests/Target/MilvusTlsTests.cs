using Cdc.Application.Replication.Target;
using Cdc.Infrastructure.Target;
using Cdc.Infrastructure.Security;
using Cdc.Testing.FakeMilvus;

namespace Cdc.Infrastructure.Tests.Target;

public sealed class MilvusTlsTests : IDisposable
{
    // The CA writes its PEM files into a folder of its own: the certificates folder of these clients. dial_config
    // names the files relative to it, as a create request does.
    private readonly TestCertificateAuthority _ca = new();

    public void Dispose() => _ca.Dispose();

    private MilvusTargetClient Client(Uri uri, MilvusDialConfig dial) =>
        new(new MilvusConnection(uri.ToString(), "root:Milvus", TimeSpan.FromSeconds(5), dial), new CertificateFolder(_ca.Directory));

    private static string InFolder(string path) => Path.GetFileName(path);

    [Fact]
    public async Task One_way_tls_trusts_the_given_CA_pem()
    {
        var server = _ca.IssueServer("localhost");
        await using var fake = await FakeMilvusServer.StartAsync(new FakeMilvusOptions { ServerCertificate = server.Certificate });
        await using var client = Client(fake.Uri, new MilvusDialConfig(ServerPemPath: InFolder(_ca.CertificatePemPath)));

        Assert.StartsWith("https://", fake.Uri.ToString());
        Assert.Contains("default", await client.ListDatabasesAsync(CancellationToken.None));
    }

    [Fact]
    public async Task One_way_tls_trusts_the_server_certificate_pem_itself()
    {
        var server = _ca.IssueServer("localhost");
        await using var fake = await FakeMilvusServer.StartAsync(new FakeMilvusOptions { ServerCertificate = server.Certificate });
        await using var client = Client(fake.Uri, new MilvusDialConfig(ServerPemPath: InFolder(server.CertificatePemPath)));

        Assert.Contains("default", await client.ListDatabasesAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Server_name_overrides_the_host_name_that_is_checked()
    {
        var server = _ca.IssueServer("milvus.internal");
        await using var fake = await FakeMilvusServer.StartAsync(new FakeMilvusOptions { ServerCertificate = server.Certificate });

        await using var named = Client(fake.Uri, new MilvusDialConfig(ServerName: "milvus.internal", ServerPemPath: InFolder(_ca.CertificatePemPath)));
        Assert.Contains("default", await named.ListDatabasesAsync(CancellationToken.None));

        await using var unnamed = Client(fake.Uri, new MilvusDialConfig(ServerPemPath: InFolder(_ca.CertificatePemPath)));
        var error = await Assert.ThrowsAsync<MilvusTargetException>(() => unnamed.ListDatabasesAsync(CancellationToken.None));
        Assert.Equal(14, error.GrpcStatus);
    }

    [Fact]
    public async Task A_server_signed_by_another_CA_is_rejected()
    {
        using var otherCa = new TestCertificateAuthority("other-ca");
        var server = otherCa.IssueServer("localhost");
        await using var fake = await FakeMilvusServer.StartAsync(new FakeMilvusOptions { ServerCertificate = server.Certificate });
        await using var client = Client(fake.Uri, new MilvusDialConfig(ServerPemPath: InFolder(_ca.CertificatePemPath)));

        await Assert.ThrowsAsync<MilvusTargetException>(() => client.ListDatabasesAsync(CancellationToken.None));
        Assert.Empty(fake.Calls);
    }

    [Fact]
    public async Task Mutual_tls_presents_the_client_certificate()
    {
        var server = _ca.IssueServer("localhost");
        var clientCert = _ca.IssueClient();
        await using var fake = await FakeMilvusServer.StartAsync(new FakeMilvusOptions
        {
            ServerCertificate = server.Certificate,
            ClientCertificateAuthority = _ca.Certificate,
        });
        await using var client = Client(fake.Uri, new MilvusDialConfig(
            CaPemPath: InFolder(_ca.CertificatePemPath), ClientPemPath: InFolder(clientCert.CertificatePemPath), ClientKeyPath: InFolder(clientCert.KeyPemPath)));

        Assert.Contains("default", await client.ListDatabasesAsync(CancellationToken.None));
        Assert.Single(fake.Calls);
    }

    [Fact]
    public async Task Mutual_tls_server_refuses_a_client_without_certificate()
    {
        var server = _ca.IssueServer("localhost");
        await using var fake = await FakeMilvusServer.StartAsync(new FakeMilvusOptions
        {
            ServerCertificate = server.Certificate,
            ClientCertificateAuthority = _ca.Certificate,
        });
        await using var client = Client(fake.Uri, new MilvusDialConfig(CaPemPath: InFolder(_ca.CertificatePemPath)));

        await Assert.ThrowsAsync<MilvusTargetException>(() => client.ListDatabasesAsync(CancellationToken.None));
        Assert.Empty(fake.Calls);
    }
}
