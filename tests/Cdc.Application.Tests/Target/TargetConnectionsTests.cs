using System.Security.Cryptography;
using Cdc.Application.Replication.Target;
using Cdc.Domain.Tasks;
using Cdc.Infrastructure.Secrets;

namespace Cdc.Application.Tests.Target;

public sealed class TargetConnectionsTests
{
    private readonly AesGcmSecretProtector _secrets = new(RandomNumberGenerator.GetBytes(32));

    [Fact]
    public void A_token_is_decrypted_and_the_timeout_and_tls_settings_carried_over()
    {
        var target = new MilvusTarget("https://m:19530", 7, new DialConfig("m", "/p/server.pem"), Token: _secrets.Protect("root:Pw-9f2c"));
        var connection = TargetConnections.From(target, _secrets);
        Assert.Equal(("https://m:19530", "root:Pw-9f2c", TimeSpan.FromSeconds(7)), (connection.Uri, connection.Token, connection.ConnectTimeout));
        Assert.Equal(("m", "/p/server.pem", false), (connection.DialConfig.ServerName, connection.DialConfig.ServerPemPath, connection.DialConfig.IsMutualTls));
        Assert.True(connection.UsesTls);
        Assert.DoesNotContain("Pw-9f2c", connection.ToString());
    }

    [Fact]
    public void The_deprecated_username_and_password_become_a_token_and_no_credentials_mean_none()
    {
        var target = new MilvusTarget("http://h:19541", 0, Username: "alice", Password: _secrets.Protect("s3cret"));
        var connection = TargetConnections.From(target, _secrets);
        Assert.Equal("alice:s3cret", connection.Token);
        Assert.Equal(TimeSpan.FromSeconds(5), connection.EffectiveTimeout); // 0 falls back as in the reference
        Assert.Equal("", TargetConnections.From(new MilvusTarget("http://h:1", 1), _secrets).Token);
    }
}
