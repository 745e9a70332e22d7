using Cdc.Domain.Tasks;

namespace Cdc.Application.Replication.Target;

/// <summary>
/// How to reach a target Milvus (the create request's milvus_connect_param, already resolved to a URI).
/// TLS is used iff <see cref="Uri"/> starts with https://. <see cref="Token"/> is "user:password" or an API key and
/// is a secret: it never appears in <see cref="ToString"/>.
/// </summary>
public sealed record MilvusConnection(string Uri, string Token, TimeSpan ConnectTimeout, MilvusDialConfig DialConfig)
{
    /// <summary>What the reference uses when connect_timeout is 0.</summary>
    public static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(5);

    public MilvusConnection(string uri, string token = "")
        : this(uri, token, TimeSpan.Zero, MilvusDialConfig.None)
    {
    }

    /// <summary>
    /// The task's apply mode: in <see cref="Domain.Tasks.ApplyMode.Upsert"/> the client's DDL and op calls leave
    /// MsgBase.replicateInfo unset, as any client's calls to an ordinary Milvus.
    /// </summary>
    public ApplyMode ApplyMode { get; init; } = ApplyMode.Replicate;

    public TimeSpan EffectiveTimeout => ConnectTimeout > TimeSpan.Zero ? ConnectTimeout : DefaultConnectTimeout;

    public bool UsesTls => Uri.StartsWith("https://", StringComparison.OrdinalIgnoreCase);

    public override string ToString() =>
        $"MilvusConnection {{ Uri = {Uri}, Token = {(Token.Length > 0 ? "***" : "(none)")}, ConnectTimeout = {ConnectTimeout}, DialConfig = {DialConfig}, ApplyMode = {ApplyMode} }}";
}

/// <summary>
/// TLS settings (dial_config). One-way TLS: <see cref="ServerPemPath"/> is trusted as the server certificate (or its
/// CA) and <see cref="ServerName"/> overrides the name checked. Mutual TLS: <see cref="CaPemPath"/> plus
/// <see cref="ClientPemPath"/> and <see cref="ClientKeyPath"/>. Paths are files on this host.
/// </summary>
public sealed record MilvusDialConfig(
    string ServerName = "",
    string ServerPemPath = "",
    string CaPemPath = "",
    string ClientPemPath = "",
    string ClientKeyPath = "")
{
    public static readonly MilvusDialConfig None = new();

    public bool IsMutualTls => ClientPemPath.Length > 0 && ClientKeyPath.Length > 0;
}
