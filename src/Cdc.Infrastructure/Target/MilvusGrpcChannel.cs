using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Cdc.Application.Replication.Target;
using Cdc.Infrastructure.Security;
using Grpc.Net.Client;

namespace Cdc.Infrastructure.Target;

/// <summary>
/// The gRPC channel to one target: Grpc.Net.Client over a <see cref="SocketsHttpHandler"/> of its own, plain h2c
/// for http://, TLS 1.3 for https:// with the dial_config rules: server_pem_path (or ca_pem_path) is the trust anchor
/// instead of the system store, server_name overrides the host name checked, client_pem_path + client_key_path
/// present a client certificate (mutual TLS). The PEM files are read through <see cref="ICertificateFiles"/>, so only
/// files inside the server's certificates folder are ever opened.
/// </summary>
public static class MilvusGrpcChannel
{
    /// <summary>Largest response accepted; Milvus' answers to the calls made here are far smaller.</summary>
    public const int MaxResponseBytes = 64 * 1024 * 1024;

    /// <summary>The channel, which owns (and disposes) its handler and so its connections.</summary>
    public static GrpcChannel Create(MilvusConnection connection, ICertificateFiles? certificates = null) =>
        GrpcChannel.ForAddress(Address(connection), new GrpcChannelOptions
        {
            HttpHandler = CreateHandler(connection, certificates),
            DisposeHttpClient = true,
            MaxReceiveMessageSize = MaxResponseBytes,
            // No limit of our own on requests: the target enforces its receive limit and says so.
            MaxSendMessageSize = null,
            // While the target cannot be reached, calls fail at once (UNAVAILABLE, retried with backoff) and the
            // channel reconnects on its own. gRPC's connection backoff (1 s, growing to 120 s) would keep a target that
            // is back unused for up to two minutes; one CDC task is one client, so it tries again within 2 s.
            InitialReconnectBackoff = TimeSpan.FromMilliseconds(200),
            MaxReconnectBackoff = TimeSpan.FromSeconds(2),
        });

    /// <param name="connection">The target.</param>
    /// <param name="certificates">Where dial_config's files are read; null refuses every file.</param>
    public static SocketsHttpHandler CreateHandler(MilvusConnection connection, ICertificateFiles? certificates = null)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = connection.EffectiveTimeout,
            EnableMultipleHttp2Connections = true,
            // Large windows for what the target sends; what a ReplicateMessage (~3 MB for a 1,000-row insert of
            // 768-dim vectors) may send at once is the target's stream window, which grpc-go grows by BDP estimation.
            InitialHttp2StreamWindowSize = 16 * 1024 * 1024,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
            KeepAlivePingDelay = TimeSpan.FromSeconds(30),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
        };

        if (connection.UsesTls)
        {
            handler.SslOptions = CreateTlsOptions(connection, certificates ?? CertificateFolder.None);
        }

        return handler;
    }

    public static Uri Address(MilvusConnection connection)
    {
        if (!System.Uri.TryCreate(connection.Uri, UriKind.Absolute, out var uri)
            || (uri.Scheme != System.Uri.UriSchemeHttp && uri.Scheme != System.Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"Milvus uri '{connection.Uri}' is not an absolute http:// or https:// address", nameof(connection));
        }

        // Milvus listens on 19530 when the URI names no port.
        var builder = new UriBuilder(uri) { Path = "/" };
        if (uri.IsDefaultPort && !connection.Uri.Contains($":{uri.Port}", StringComparison.Ordinal))
        {
            builder.Port = 19530;
        }

        return builder.Uri;
    }

    private static SslClientAuthenticationOptions CreateTlsOptions(MilvusConnection connection, ICertificateFiles certificates)
    {
        var dial = connection.DialConfig;
        var options = new SslClientAuthenticationOptions
        {
            EnabledSslProtocols = SslProtocols.Tls13,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        };

        if (dial.ServerName.Length > 0)
        {
            options.TargetHost = dial.ServerName;
        }

        var (anchorField, anchorPath) = dial.ServerPemPath.Length > 0
            ? ("dial_config.server_pem_path", dial.ServerPemPath)
            : ("dial_config.ca_pem_path", dial.CaPemPath);
        X509Certificate2Collection? anchors = null;
        if (anchorPath.Length > 0)
        {
            anchors = [];
            var pem = certificates.ReadText(anchorField, anchorPath);
            try
            {
                anchors.ImportFromPem(pem);
            }
            catch (Exception ex) when (ex is CryptographicException or ArgumentException)
            {
                throw new CertificateFileException(anchorField, anchorPath, "the file holds no readable PEM certificate");
            }

            if (anchors.Count == 0)
                throw new CertificateFileException(anchorField, anchorPath, "the file holds no PEM certificate");
        }

        if (anchors is not null || dial.ServerName.Length > 0)
        {
            var expectedName = dial.ServerName;
            options.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                IsTrusted(certificate, errors, anchors, expectedName);
        }

        if (dial.IsMutualTls)
        {
            var clientPem = certificates.ReadText("dial_config.client_pem_path", dial.ClientPemPath);
            var keyPem = certificates.ReadText("dial_config.client_key_path", dial.ClientKeyPath);
            X509Certificate2 client;
            try
            {
                client = X509Certificate2.CreateFromPem(clientPem, keyPem);
            }
            catch (Exception ex) when (ex is CryptographicException or ArgumentException)
            {
                throw new CertificateFileException("dial_config.client_pem_path", dial.ClientPemPath,
                    $"the file and the key in '{dial.ClientKeyPath}' are not a PEM certificate and its private key");
            }

            options.ClientCertificates = [client];
            options.LocalCertificateSelectionCallback = (_, _, _, _, _) => client;
        }

        return options;
    }

    private static bool IsTrusted(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection? anchors, string expectedName)
    {
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            return false;
        }

        var presented = certificate as X509Certificate2 ?? new X509Certificate2(certificate);

        // The handler checks the name against the URI host; server_name replaces that host for the check.
        var nameMatches = expectedName.Length > 0
            ? presented.MatchesHostname(expectedName)
            : !errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch);
        if (!nameMatches)
        {
            return false;
        }

        if (anchors is null)
        {
            return !errors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors);
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(anchors);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain.Build(presented))
        {
            return true;
        }

        // A self-signed server certificate given as server_pem_path is trusted as itself (pinning).
        return anchors.Any(anchor => anchor.RawDataMemory.Span.SequenceEqual(presented.RawDataMemory.Span));
    }
}
