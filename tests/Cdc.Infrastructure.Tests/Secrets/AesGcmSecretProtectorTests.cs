using System.Security.Cryptography;
using Cdc.Domain.Tasks;
using Cdc.Infrastructure.Secrets;

namespace Cdc.Infrastructure.Tests.Secrets;

public sealed class AesGcmSecretProtectorTests
{
    private static readonly byte[] Key = RandomNumberGenerator.GetBytes(32);

    [Fact]
    public void A_secret_round_trips_and_its_ciphertext_differs_each_time()
    {
        var protector = new AesGcmSecretProtector(Key);
        var a = protector.Protect("root:Milvus");
        var b = protector.Protect("root:Milvus");
        Assert.StartsWith("v1:", a.Ciphertext);
        Assert.NotEqual(a.Ciphertext, b.Ciphertext);
        Assert.DoesNotContain("Milvus", a.Ciphertext);
        Assert.Equal("root:Milvus", protector.Unprotect(a));
    }

    [Fact]
    public void A_wrong_key_or_a_tampered_ciphertext_is_refused()
    {
        var secret = new AesGcmSecretProtector(Key).Protect("token");
        Assert.ThrowsAny<CryptographicException>(() => new AesGcmSecretProtector(RandomNumberGenerator.GetBytes(32)).Unprotect(secret));
        var bytes = Convert.FromBase64String(secret.Ciphertext[3..]);
        bytes[^1] ^= 1;
        Assert.ThrowsAny<CryptographicException>(() => new AesGcmSecretProtector(Key).Unprotect(new ProtectedSecret("v1:" + Convert.ToBase64String(bytes))));
        Assert.ThrowsAny<CryptographicException>(() => new AesGcmSecretProtector(Key).Unprotect(new ProtectedSecret("plain")));
    }

    [Fact]
    public void Without_a_configured_key_one_is_generated_once_with_owner_only_permissions()
    {
        var dir = Directory.CreateTempSubdirectory().FullName;
        try
        {
            var file = Path.Combine(dir, "data", "secret.key");
            var first = SecretKeySource.Resolve(null, file);
            Assert.Equal(32, first.Length);
            Assert.Equal(first, SecretKeySource.Resolve("", file));
            if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            var configured = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
            Assert.Equal(Convert.FromBase64String(configured), SecretKeySource.Resolve(configured, file));
            var bad = Assert.Throws<InvalidOperationException>(() => SecretKeySource.Resolve("c2hvcnQ=", file));
            Assert.Contains("metaStoreConfig.secretKey", bad.Message);
        }
        finally { Directory.Delete(dir, true); }
    }
}
