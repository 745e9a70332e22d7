namespace Cdc.Domain.Tasks;

/// <summary>TLS settings for the target connection; the paths name files on the CDC host.</summary>
public sealed record DialConfig(
    string? ServerName = null,
    string? ServerPemPath = null,
    string? CaPemPath = null,
    string? ClientPemPath = null,
    string? ClientKeyPath = null)
{
    public bool IsEmpty() => ServerName is null && ServerPemPath is null && CaPemPath is null &&
                           ClientPemPath is null && ClientKeyPath is null;
}

/// <summary>
/// Where a task writes: the target Milvus. <see cref="Uri"/> is always resolved (the deprecated host/port form
/// becomes <c>http(s)://host:port</c>); the deprecated fields are kept so that get/list show what was given.
/// Secrets are held protected.
/// </summary>
public sealed record MilvusTarget(
    string Uri,
    int ConnectTimeoutSeconds,
    DialConfig? Dial = null,
    int ChannelNum = 0,
    bool IgnorePartition = false,
    string? Host = null,
    int Port = 0,
    bool EnableTls = false,
    string? Username = null,
    ProtectedSecret? Password = null,
    ProtectedSecret? Token = null)
{
    /// <summary>TLS is on exactly when the URI says https, as in the reference server.</summary>
    public bool UsesTls() => Uri.StartsWith("https://", StringComparison.OrdinalIgnoreCase);

    /// <summary>The same target with every credential replaced by the mask (for audit output).</summary>
    public MilvusTarget Masked() => this with
    {
        Username = Username is null ? null : ProtectedSecret.Mask,
        Password = Password is null ? null : new ProtectedSecret(ProtectedSecret.Mask),
        Token = Token is null ? null : new ProtectedSecret(ProtectedSecret.Mask),
    };
}
