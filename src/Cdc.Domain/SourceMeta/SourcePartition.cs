using Cdc.Domain.Changes;

namespace Cdc.Domain.SourceMeta;

/// <summary>A partition of a source collection, as the source metadata store holds it.</summary>
public sealed record SourcePartition(
    long Id,
    long CollectionId,
    string Name,
    HybridTimestamp CreatedTimestamp,
    SourcePartitionState State)
{
    /// <summary>Milvus' default partition name; partition-key collections have <c>_default_0</c>, <c>_default_1</c> ….</summary>
    public const string DefaultName = "_default";

    /// <summary>
    /// A partition Milvus creates with the collection: its name contains <see cref="DefaultName"/> (the reference
    /// CDC's test, so a user partition whose name contains it is treated the same way). Not replicated on its own.
    /// </summary>
    public bool IsDefault => Name.Contains(DefaultName, StringComparison.Ordinal);
}
