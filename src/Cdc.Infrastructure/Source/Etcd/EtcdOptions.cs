namespace Cdc.Infrastructure.Source.Etcd;

/// <summary>
/// How to reach an etcd cluster: the keys of <c>sourceConfig.etcd</c> (and <c>metaStoreConfig.etcd</c>) in cdc.yaml.
/// </summary>
public sealed record EtcdOptions
{
    /// <summary>
    /// Client endpoints, <c>host:port</c> or a full <c>http(s)://host:port</c> URL. One is used at a time, the first
    /// one first; when it stops answering, the next.
    /// </summary>
    public IReadOnlyList<string> Address { get; init; } = ["127.0.0.1:2379"];

    /// <summary>The source Milvus' <c>etcd.rootPath</c>.</summary>
    public string RootPath { get; init; } = "by-dev";

    /// <summary>The source Milvus' <c>etcd.metaSubPath</c>.</summary>
    public string MetaSubPath { get; init; } = "meta";

    public bool EnableAuth { get; init; }
    public string? Username { get; init; }
    public string? Password { get; init; }

    public bool EnableTls { get; init; }

    /// <summary>Client certificate (PEM) for mutual TLS; optional.</summary>
    public string? TlsCertPath { get; init; }

    /// <summary>Private key (PEM) of <see cref="TlsCertPath"/>.</summary>
    public string? TlsKeyPath { get; init; }

    /// <summary>CA certificate(s) (PEM) the server certificate must chain to; the system store when empty.</summary>
    public string? TlsCaCertPath { get; init; }

    /// <summary>Lowest TLS version accepted: "1.2" or "1.3" ("1.0"/"1.1" are treated as 1.2).</summary>
    public string? TlsMinVersion { get; init; }

    /// <summary>Keys per request when a range is read page by page.</summary>
    public int RangePageSize { get; init; } = 1000;

    /// <summary>Time limit of one request (one range page, put, delete), over every endpoint it is tried on.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often in a row a watch may fail to reconnect before it gives up with an error.</summary>
    public int WatchReconnectLimit { get; init; } = 100;

    /// <summary>The key prefix of the Milvus metadata: <c>rootPath/metaSubPath</c>, e.g. <c>by-dev/meta</c>.</summary>
    public string MetaPrefix => $"{RootPath.TrimEnd('/')}/{MetaSubPath.Trim('/')}";
}
