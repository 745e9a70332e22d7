using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Cdc.Infrastructure.Source.Etcd;

/// <summary>
/// The TLS side of <see cref="EtcdOptions"/> (enableTLS, tlsCACertPath, tlsCertPath/tlsKeyPath, tlsMinVersion) as the
/// <see cref="SslClientAuthenticationOptions"/> dotnet-etcd's channel uses. The files are read once, when the client
/// is made, so a wrong path fails at start-up with the path named.
/// </summary>
internal sealed class EtcdTls
{
    private readonly SslProtocols _protocols;
    private readonly X509Certificate2? _clientCertificate;
    private readonly X509Certificate2Collection? _roots;

    private EtcdTls(SslProtocols protocols, X509Certificate2? clientCertificate, X509Certificate2Collection? roots)
    {
        _protocols = protocols;
        _clientCertificate = clientCertificate;
        _roots = roots;
    }

    public static EtcdTls From(EtcdOptions options)
    {
        if (!options.EnableTls) return new EtcdTls(SslProtocols.None, null, null); // an https:// address: system defaults
        var protocols = options.TlsMinVersion?.Trim() == "1.3" ? SslProtocols.Tls13 : SslProtocols.Tls12 | SslProtocols.Tls13;

        X509Certificate2? clientCertificate = null;
        if (!string.IsNullOrEmpty(options.TlsCertPath))
        {
            if (string.IsNullOrEmpty(options.TlsKeyPath))
                throw new ArgumentException("etcd tlsCertPath is set but tlsKeyPath is empty");
            using var pem = X509Certificate2.CreateFromPemFile(options.TlsCertPath, options.TlsKeyPath);
            // An ephemeral PEM key cannot be used by SslStream on every platform: round-trip through PKCS#12.
            clientCertificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }

        X509Certificate2Collection? roots = null;
        if (!string.IsNullOrEmpty(options.TlsCaCertPath))
        {
            roots = [];
            roots.ImportFromPemFile(options.TlsCaCertPath);
            if (roots.Count == 0) throw new ArgumentException($"no certificate in etcd tlsCACertPath {options.TlsCaCertPath}");
        }
        return new EtcdTls(protocols, clientCertificate, roots);
    }

    /// <summary>Applies these settings to the options of one endpoint's TLS connections.</summary>
    public void Configure(SslClientAuthenticationOptions ssl)
    {
        if (_protocols != SslProtocols.None) ssl.EnabledSslProtocols = _protocols;
        if (_clientCertificate is not null) ssl.ClientCertificates = [_clientCertificate];
        if (_roots is { } roots)
        {
            ssl.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                certificate is not null && ChainsTo(certificate, roots, errors);
        }
    }

    private static bool ChainsTo(X509Certificate certificate, X509Certificate2Collection roots, SslPolicyErrors errors)
    {
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0) return false;
        if ((errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        var server = certificate as X509Certificate2;
        using var copy = server is null ? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()) : null;
        return chain.Build(server ?? copy!);
    }
}
