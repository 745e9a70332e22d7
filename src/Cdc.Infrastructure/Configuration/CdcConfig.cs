namespace Cdc.Infrastructure.Configuration;

/// <summary>The server configuration, in the key layout of the reference's cdc.yaml (see README, "Configuration").</summary>
public sealed record CdcConfig(
    string Address,
    int MaxTaskNum,
    int MaxNameLength,
    int MaxRequestBytes,
    MetaStoreConfig MetaStore,
    SourceConfig Source)
{
    /// <summary>
    /// <c>taskStartsPerSecond</c>: how many task runs this server starts a second at most, evenly spaced (see
    /// <c>TaskStartPacer</c>).
    /// </summary>
    public int TaskStartsPerSecond { get; init; } = DefaultTaskStartsPerSecond;

    public const int DefaultTaskStartsPerSecond = 50;

    /// <summary><c>statusPage</c>: the operator's page at <c>/</c>.</summary>
    public StatusPageConfig StatusPage { get; init; } = new(Actions: false);

    public (string Host, int Port) ListenEndpoint
    {
        get
        {
            var i = Address.LastIndexOf(':');
            return (Address[..i], int.Parse(Address[(i + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    /// <summary>
    /// <c>certificatesDir</c>, as an absolute path: the only folder whose files a task's dial_config may name
    /// (default <c>certs</c> in the working directory).
    /// </summary>
    public string CertificatesDir { get; init; } = Path.GetFullPath("certs");

    /// <summary><c>apiAuth</c>: bearer tokens required by the HTTP API; off (no tokens) by default.</summary>
    public ApiAuthConfig ApiAuth { get; init; } = ApiAuthConfig.Off;

    /// <summary><c>apiTls</c>: the certificate of the HTTP listener; null serves plain HTTP (the default).</summary>
    public ApiTlsConfig? ApiTls { get; init; }
}

/// <summary>
/// <c>apiAuth</c>: when <see cref="Tokens"/> is not empty, every request needs <c>Authorization: Bearer</c> with one
/// of them, except <c>/healthz</c>, <c>/readyz</c> and, unless <see cref="ProtectMetrics"/>, <c>/cdc/metrics</c>.
/// </summary>
public sealed record ApiAuthConfig(IReadOnlyList<string> Tokens, bool ProtectMetrics)
{
    public static readonly ApiAuthConfig Off = new([], false);

    public bool Enabled => Tokens.Count > 0;

    /// <summary>Never the tokens themselves: a config printed or logged shows how many there are.</summary>
    public override string ToString() => $"ApiAuthConfig {{ Tokens = {Tokens.Count} configured, ProtectMetrics = {ProtectMetrics} }}";
}

/// <summary><c>apiTls</c>: PEM files of the HTTP listener's certificate and its private key.</summary>
public sealed record ApiTlsConfig(string CertPath, string KeyPath);

/// <summary>
/// <c>statusPage.actions</c>: whether the status page offers pause, resume and delete buttons (each asks for a
/// confirmation and sends the same POST /cdc request as curl would). Off by default: the page is read-only.
/// </summary>
public sealed record StatusPageConfig(bool Actions);

/// <summary><c>metaStoreConfig</c>: the PostgreSQL event store, its tenant (<c>rootPath</c>) and the secret key.</summary>
public sealed record MetaStoreConfig(
    string StoreType,
    string ConnectionString,
    string RootPath,
    string Schema,
    string? SecretKey,
    string SecretKeyFile);

/// <summary><c>sourceConfig</c>: how the source Milvus is read.</summary>
public sealed record SourceConfig(
    EtcdConfig Etcd,
    KafkaConfig Kafka,
    PulsarConfig Pulsar,
    string ReplicateChan,
    string DefaultPartitionName,
    int ReadChanLen,
    long ReadBufferBytes);

public sealed record EtcdConfig(
    IReadOnlyList<string> Address,
    string RootPath,
    string MetaSubPath,
    bool EnableAuth,
    string? Username,
    string? Password,
    bool EnableTls,
    string? TlsCertPath,
    string? TlsKeyPath,
    string? TlsCaCertPath,
    string? TlsMinVersion);

public sealed record KafkaConfig(
    string? Address,
    string? SaslUsername,
    string? SaslPassword,
    string? SaslMechanisms,
    string? SecurityProtocol,
    IReadOnlyDictionary<string, string> Consumer,
    IReadOnlyDictionary<string, string> Producer);

public sealed record PulsarConfig(
    string? Address,
    string? WebAddress,
    int MaxMessageSize,
    string Tenant,
    string Namespace,
    string? AuthPlugin,
    string? AuthParams,
    string? TlsTrustCertsFilePath = null);
