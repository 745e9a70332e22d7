namespace Cdc.Infrastructure.EventStore;

/// <summary>
/// Where the event store lives: a PostgreSQL schema, and the tenant (the config's <c>metaStoreConfig.rootPath</c>)
/// that keeps several CDC servers sharing one database apart.
/// </summary>
public sealed record EventStoreOptions(string Schema, string Tenant)
{
    /// <summary>The NOTIFY channel that wakes subscribers after a commit.</summary>
    public string NotifyChannel => $"{Schema}_events";

    /// <summary>
    /// The key of the transaction-level advisory lock every append takes. Appends are serialised by it, so sequence
    /// numbers become visible in order: a sequence number below a visible one is final (committed or rolled back).
    /// </summary>
    public long AppendLockKey => StableHash($"cdc-append:{Schema}");

    public long SchemaLockKey => StableHash($"cdc-schema:{Schema}");

    private static long StableHash(string text)
    {
        // FNV-1a, 64 bit: stable across processes, unlike string.GetHashCode.
        var hash = 14695981039346656037UL;
        foreach (var b in System.Text.Encoding.UTF8.GetBytes(text)) hash = (hash ^ b) * 1099511628211UL;
        return unchecked((long)hash);
    }
}
