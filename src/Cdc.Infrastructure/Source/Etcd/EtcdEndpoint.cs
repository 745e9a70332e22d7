using Grpc.Core.Interceptors;
using Grpc.Net.Client;

namespace Cdc.Infrastructure.Source.Etcd;

/// <summary>
/// One configured etcd endpoint and the dotnet-etcd client that talks gRPC to it. One client per endpoint rather
/// than one dotnet-etcd client balancing over every address: dotnet-etcd's multi-address channel checks every
/// server's TLS certificate against a single server name and cannot say which endpoint failed, and the address list
/// is an order of preference (see <see cref="EtcdEndpoints"/>).
/// </summary>
internal sealed class EtcdEndpoint : IDisposable
{
    /// <summary>etcd's client port, for an address that names none.</summary>
    private const int DefaultPort = 2379;

    /// <summary>
    /// Longest wait between two connection attempts of the channel after the endpoint failed (gRPC's default is
    /// 120 s, longer than a watch waits between resume attempts).
    /// </summary>
    private static readonly TimeSpan MaxReconnectBackoff = TimeSpan.FromSeconds(5);

    private readonly string? _username;
    private readonly string? _password;

    public EtcdEndpoint(int index, string address, EtcdOptions options, EtcdTls tls, Interceptor[] interceptors)
    {
        var uri = Parse(index, address, options.EnableTls);
        Name = $"{uri.Scheme}://{uri.Authority}";
        void ConfigureChannel(GrpcChannelOptions channel)
        {
            // dotnet-etcd retries calls on Unavailable up to 5 times (seconds of back-off) on the same address;
            // EtcdEndpoints goes on to the next endpoint instead, and callers retry with their own back-off.
            channel.ServiceConfig?.MethodConfigs.Clear();
            channel.MaxReconnectBackoff = MaxReconnectBackoff;
        }
        // dotnet-etcd takes the server name as the channel's authority: the TLS certificate is checked against it.
        Client = uri.Scheme == Uri.UriSchemeHttps
            ? new dotnet_etcd.EtcdClient(Name, tls.Configure, uri.Port, uri.Host, ConfigureChannel, interceptors)
            : new dotnet_etcd.EtcdClient(Name, uri.Port, uri.Host, ConfigureChannel, interceptors);
        if (options.EnableAuth)
        {
            _username = options.Username;
            _password = options.Password;
            // dotnet-etcd calls Auth.Authenticate when a call needs a token, caches the token and puts it in the
            // "authorization" header of every call (the watch stream included).
            Client.SetCredentials(_username!, _password!);
        }
    }

    /// <summary><c>scheme://host:port</c>: what errors and logs call this endpoint.</summary>
    public string Name { get; }

    public dotnet_etcd.EtcdClient Client { get; }

    public bool UsesAuth => _username is not null;

    /// <summary>Drops the cached auth token: the next call authenticates again (after etcd called the token invalid).</summary>
    public void RenewToken()
    {
        if (UsesAuth) Client.SetCredentials(_username!, _password!);
    }

    public override string ToString() => Name;

    public void Dispose() => Client.Dispose();

    private static Uri Parse(int index, string address, bool tls)
    {
        var text = address.Trim();
        // Not echoed: user:password@ would put a secret in the message.
        if (text.Contains('@', StringComparison.Ordinal))
            throw new ArgumentException($"etcd address {index} carries credentials; set username and password instead");
        if (!text.Contains("://", StringComparison.Ordinal)) text = (tls ? "https://" : "http://") + text;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || uri.Host.Length == 0)
            throw new ArgumentException($"etcd address {index} ('{address}') is not host:port or an http(s) URL");
        var authority = text[(text.IndexOf("://", StringComparison.Ordinal) + 3)..].Split('/')[0];
        var hasPort = authority.LastIndexOf(':') > authority.LastIndexOf(']');
        return hasPort ? uri : new UriBuilder(uri) { Port = DefaultPort }.Uri;
    }
}
