using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Cdc.Infrastructure.Etcd;

/// <summary>
/// Builds the HTTP handler for etcd's JSON gateway from the TLS settings of <see cref="EtcdOptions"/>.
/// Known limit of the gateway route: with <c>--client-cert-auth</c> etcd's gateway dials its own gRPC port with the
/// server certificate as client certificate, so that certificate must allow clientAuth, or every call answers
/// HTTP 503 "connection closed".
/// </summary>
internal static class EtcdTransport
{
    public static HttpMessageHandler CreateHandler(EtcdOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            ConnectTimeout = TimeSpan.FromSeconds(10),
        };
        if (!options.EnableTls) return handler;

        var ssl = handler.SslOptions;
        ssl.EnabledSslProtocols = options.TlsMinVersion?.Trim() == "1.3"
            ? SslProtocols.Tls13
            : SslProtocols.Tls12 | SslProtocols.Tls13;

        if (!string.IsNullOrEmpty(options.TlsCertPath))
        {
            if (string.IsNullOrEmpty(options.TlsKeyPath))
                throw new ArgumentException("etcd tlsCertPath is set but tlsKeyPath is empty");
            var pem = X509Certificate2.CreateFromPemFile(options.TlsCertPath, options.TlsKeyPath);
            // An ephemeral PEM key cannot be used by SslStream on every platform: round-trip through PKCS#12.
            var clientCert = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
            ssl.ClientCertificates = [clientCert];
        }

        if (!string.IsNullOrEmpty(options.TlsCaCertPath))
        {
            var roots = new X509Certificate2Collection();
            roots.ImportFromPemFile(options.TlsCaCertPath);
            if (roots.Count == 0) throw new ArgumentException($"no certificate in etcd tlsCACertPath {options.TlsCaCertPath}");
            ssl.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                certificate is not null && ChainsTo(new X509Certificate2(certificate), roots, errors);
        }
        return handler;
    }

    private static bool ChainsTo(X509Certificate2 certificate, X509Certificate2Collection roots, SslPolicyErrors errors)
    {
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0) return false;
        if ((errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }

    /// <summary>The gateway base URL of one configured endpoint (<c>host:port</c> gets http:// or https://).</summary>
    public static Uri BaseUri(string endpoint, bool tls)
    {
        var text = endpoint.Trim();
        if (!text.Contains("://", StringComparison.Ordinal)) text = (tls ? "https://" : "http://") + text;
        return new Uri(text.TrimEnd('/') + "/", UriKind.Absolute);
    }
}
