using Cdc.Domain.SourceMeta;

namespace Cdc.Application.Replication.Source;

/// <summary>
/// The source's databases, collections and partitions (every state, tombstoned ones left out) as of one metadata
/// store revision. <see cref="ISourceMetadata.WatchAsync"/> continues from <see cref="Revision"/> + 1.
/// </summary>
public sealed record SourceMetadataSnapshot(
    IReadOnlyList<SourceDatabase> Databases,
    IReadOnlyList<SourceCollection> Collections,
    IReadOnlyList<SourcePartition> Partitions,
    long Revision)
{
    public static SourceMetadataSnapshot Empty(long revision) => new([], [], [], revision);

    /// <summary>The collections in the created state: the ones the reference CDC replicates at start.</summary>
    public IEnumerable<SourceCollection> CreatedCollections => Collections.Where(c => c.IsCreated);

    /// <summary>The created, non-default partitions of collection <paramref name="collectionId"/>.</summary>
    public IEnumerable<SourcePartition> CreatedPartitionsOf(long collectionId) =>
        Partitions.Where(p => p.CollectionId == collectionId && p.State == SourcePartitionState.Created && !p.IsDefault);

    public SourceCollection? FindCollection(string dbName, string name) =>
        Collections.FirstOrDefault(c => c.DbName == dbName && c.Name == name && c.IsCreated);
}
