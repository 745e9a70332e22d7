using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Cdc.Infrastructure.Source.Etcd;
using Etcdserverpb;

namespace Cdc.Testing;

/// <summary>
/// A private etcd for a test that must change server-wide settings (auth, TLS) the shared one from scripts/test.sh
/// must keep. Listens on free loopback ports with its data in a temporary folder; disposing stops it and deletes it.
/// </summary>
public sealed class EtcdProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _dataDir;

    private EtcdProcess(Process process, string dataDir, int clientPort, string scheme)
    {
        _process = process;
        _dataDir = dataDir;
        ClientPort = clientPort;
        Url = $"{scheme}://127.0.0.1:{clientPort}";
    }

    public int ClientPort { get; }

    /// <summary><c>http(s)://127.0.0.1:port</c>.</summary>
    public string Url { get; }

    /// <summary>
    /// Adds <paramref name="user"/> with the root role and turns auth on (rpc.proto Auth service, through
    /// dotnet-etcd). Over https the server certificate must chain to <paramref name="caCertPath"/>.
    /// </summary>
    public async Task EnableAuthAsync(string user, string password, CancellationToken cancellationToken, string? caCertPath = null)
    {
        using var admin = caCertPath is null
            ? new dotnet_etcd.EtcdClient(Url)
            : new dotnet_etcd.EtcdClient(Url, ssl => TrustOnly(ssl, caCertPath), ClientPort, "127.0.0.1");
        await admin.UserAddAsync(new AuthUserAddRequest { Name = user, Password = password }, cancellationToken: cancellationToken);
        await admin.RoleAddAsync(new AuthRoleAddRequest { Name = "root" }, cancellationToken: cancellationToken);
        await admin.UserGrantRoleAsync(new AuthUserGrantRoleRequest { User = user, Role = "root" }, cancellationToken: cancellationToken);
        await admin.AuthEnableAsync(new AuthEnableRequest(), cancellationToken: cancellationToken);
    }

    private static void TrustOnly(SslClientAuthenticationOptions ssl, string caCertPath)
    {
        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(caCertPath);
        ssl.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
        {
            if (certificate is not X509Certificate2 server || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0) return false;
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(roots);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(server);
        };
    }

    /// <summary>
    /// Starts etcd with <paramref name="extraArguments"/> and waits until its client port accepts connections.
    /// <paramref name="scheme"/> is "https" when the arguments configure client TLS.
    /// </summary>
    public static async Task<EtcdProcess> StartAsync(
        IEnumerable<string> extraArguments, CancellationToken cancellationToken, string scheme = "http")
    {
        var dataDir = Directory.CreateTempSubdirectory("cdc-etcd-").FullName;
        var client = FreePort();
        var peer = FreePort();
        var info = new ProcessStartInfo("etcd")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
                 {
                     "--name", "cdc-test", "--data-dir", Path.Combine(dataDir, "data"),
                     "--listen-client-urls", $"{scheme}://127.0.0.1:{client}",
                     "--advertise-client-urls", $"{scheme}://127.0.0.1:{client}",
                     "--listen-peer-urls", $"http://127.0.0.1:{peer}",
                     "--initial-advertise-peer-urls", $"http://127.0.0.1:{peer}",
                     "--initial-cluster", $"cdc-test=http://127.0.0.1:{peer}",
                     "--log-level", "warn", "--logger", "zap",
                 }.Concat(extraArguments))
        {
            info.ArgumentList.Add(argument);
        }
        var process = Process.Start(info) ?? throw new InvalidOperationException("etcd did not start");
        var log = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var etcd = new EtcdProcess(process, dataDir, client, scheme);
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                if (process.HasExited) throw new InvalidOperationException($"etcd exited at start-up: {Snapshot(log)}");
                if (attempt > 200) throw new TimeoutException($"etcd did not listen within 10 s: {Snapshot(log)}");
                using var probe = new TcpClient();
                try
                {
                    await probe.ConnectAsync(IPAddress.Loopback, client, cancellationToken);
                    break;
                }
                catch (SocketException)
                {
                    await Task.Delay(50, cancellationToken);
                }
            }
            await Task.Delay(200, cancellationToken); // the server is ready shortly after the port opens
            if (process.HasExited) throw new InvalidOperationException($"etcd exited at start-up: {Snapshot(log)}");
            return etcd;
        }
        catch
        {
            await etcd.DisposeAsync();
            throw;
        }
    }

    private static string Snapshot(System.Text.StringBuilder log)
    {
        lock (log) return log.ToString();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await ChildProcess.KillAndDisposeAsync(_process);
        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
