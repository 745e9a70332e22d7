using Cdc.Domain.Changes;

namespace Cdc.Domain.SourceMeta;

/// <summary>A database of the source Milvus, as its metadata store holds it.</summary>
public sealed record SourceDatabase(
    long Id,
    string Name,
    string TenantId,
    SourceDatabaseState State,
    HybridTimestamp CreatedTimestamp,
    IReadOnlyDictionary<string, string> Properties)
{
    /// <summary>Milvus' default database: id 1, name "default".</summary>
    public const long DefaultId = 1;

    public const string DefaultName = "default";

    /// <summary>Usable: created (or written before database states existed).</summary>
    public bool IsCreated => State is SourceDatabaseState.Created or SourceDatabaseState.Unknown;
}
