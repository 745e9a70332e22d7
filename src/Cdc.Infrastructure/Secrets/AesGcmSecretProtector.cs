using System.Security.Cryptography;
using System.Text;
using Cdc.Application.Secrets;
using Cdc.Domain.Tasks;

namespace Cdc.Infrastructure.Secrets;

/// <summary>
/// AES-256-GCM with a random 96-bit nonce per secret. Ciphertext format: <c>v1:</c> + base64(nonce | cipher | tag).
/// </summary>
public sealed class AesGcmSecretProtector : ISecretProtector
{
    private const string Prefix = "v1:";
    private const int NonceSize = 12, TagSize = 16;
    private readonly byte[] _key;

    public AesGcmSecretProtector(byte[] key)
    {
        if (key.Length != 32) throw new ArgumentException("the secret key must be 32 bytes (AES-256)", nameof(key));
        _key = key.ToArray();
    }

    public ProtectedSecret Protect(string plaintext)
    {
        var plain = Encoding.UTF8.GetBytes(plaintext);
        var sealedBox = new byte[NonceSize + plain.Length + TagSize];
        var nonce = sealedBox.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, plain, sealedBox.AsSpan(NonceSize, plain.Length), sealedBox.AsSpan(NonceSize + plain.Length));
        return new ProtectedSecret(Prefix + Convert.ToBase64String(sealedBox));
    }

    public string Unprotect(ProtectedSecret secret)
    {
        if (!secret.Ciphertext.StartsWith(Prefix, StringComparison.Ordinal))
            throw new CryptographicException("the stored secret is not in a known format");
        var box = Convert.FromBase64String(secret.Ciphertext[Prefix.Length..]);
        if (box.Length < NonceSize + TagSize) throw new CryptographicException("the stored secret is truncated");
        var plain = new byte[box.Length - NonceSize - TagSize];
        using var aes = new AesGcm(_key, TagSize);
        aes.Decrypt(box.AsSpan(0, NonceSize), box.AsSpan(NonceSize, plain.Length), box.AsSpan(NonceSize + plain.Length), plain);
        return Encoding.UTF8.GetString(plain);
    }
}
