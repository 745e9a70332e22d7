namespace Cdc.Infrastructure.EventStore;

/// <summary>
/// Where the event store lives: a PostgreSQL schema (Marten's tables and documents), and the tenant (the config's
/// <c>metaStoreConfig.rootPath</c>), Marten's conjoined tenant id, that keeps several CDC servers sharing one database
/// apart.
/// </summary>
public sealed record EventStoreOptions(string Schema, string Tenant)
{
    /// <summary>
    /// The schema of Wolverine's node and message tables for this tenant: the servers of one tenant form one Wolverine
    /// cluster (they share out its tasks), and servers of another tenant never join it.
    /// </summary>
    public string WolverineSchema => $"{Schema}_wolverine_{IdentifierPart(Tenant)}";

    /// <summary>The key of the transaction-level advisory lock a task create takes, so the task limit holds exactly.</summary>
    public long CreateLockKey => StableHash($"cdc-create:{Schema}:{Tenant}");

    /// <summary>The key of the session-level advisory lock under which the store's tables are created or migrated.</summary>
    public long SchemaLockKey => StableHash($"cdc-schema:{Schema}");

    private static long StableHash(string text)
    {
        // FNV-1a, 64 bit: stable across processes, unlike string.GetHashCode.
        var hash = 14695981039346656037UL;
        foreach (var b in System.Text.Encoding.UTF8.GetBytes(text)) hash = (hash ^ b) * 1099511628211UL;
        return unchecked((long)hash);
    }

    /// <summary>A tenant name as part of an SQL identifier: lowercase letters, digits and '_', with a hash when changed.</summary>
    private static string IdentifierPart(string text)
    {
        var cleaned = new string(text.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_').ToArray());
        if (cleaned == text && cleaned.Length <= 24) return cleaned;
        var hash = (ulong)StableHash(text) % 1_000_000_007UL;
        return $"{cleaned[..Math.Min(cleaned.Length, 16)]}_{hash}";
    }
}
