using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Cdc.Testing.FakeMilvus;

/// <summary>
/// A throw-away CA for TLS tests: issues server and client certificates and writes PEM files to a temp directory
/// (deleted on dispose), the way dial_config expects them.
/// </summary>
public sealed class TestCertificateAuthority : IDisposable
{
    private readonly RSA _key = RSA.Create(2048);

    public TestCertificateAuthority(string name = "cdc-test-ca")
    {
        var request = new CertificateRequest($"CN={name}", _key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        Certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        Directory = System.IO.Directory.CreateTempSubdirectory("cdc-tls-").FullName;
        CertificatePemPath = WritePem("ca.pem", Certificate.ExportCertificatePem());
    }

    public X509Certificate2 Certificate { get; }

    public string Directory { get; }

    public string CertificatePemPath { get; }

    /// <summary>A server certificate for the given DNS names (and 127.0.0.1).</summary>
    public IssuedCertificate IssueServer(params string[] dnsNames) =>
        Issue(dnsNames.FirstOrDefault() ?? "localhost", dnsNames, new Oid("1.3.6.1.5.5.7.3.1"));

    public IssuedCertificate IssueClient(string name = "cdc-client") =>
        Issue(name, [], new Oid("1.3.6.1.5.5.7.3.2"));

    private IssuedCertificate Issue(string commonName, string[] dnsNames, Oid usage)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([usage], false));
        if (dnsNames.Length > 0)
        {
            var san = new SubjectAlternativeNameBuilder();
            foreach (var dns in dnsNames)
            {
                san.AddDnsName(dns);
            }

            san.AddIpAddress(System.Net.IPAddress.Loopback);
            request.CertificateExtensions.Add(san.Build());
        }

        var serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7F;
        using var signed = request.Create(Certificate, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(12), serial);
        var withKey = signed.CopyWithPrivateKey(key);
        var stem = $"{commonName}-{Convert.ToHexString(serial)[..8]}";
        var certPath = WritePem($"{stem}.pem", withKey.ExportCertificatePem());
        var keyPath = WritePem($"{stem}.key", key.ExportPkcs8PrivateKeyPem());
        return new IssuedCertificate(withKey, certPath, keyPath);
    }

    private string WritePem(string fileName, string pem)
    {
        var path = Path.Combine(Directory, fileName);
        File.WriteAllText(path, pem);
        return path;
    }

    public void Dispose()
    {
        _key.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>A certificate with its private key, and where its PEM files are.</summary>
public sealed record IssuedCertificate(X509Certificate2 Certificate, string CertificatePemPath, string KeyPemPath);
