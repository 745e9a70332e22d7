using Cdc.Domain.SourceMeta;

namespace Cdc.Infrastructure.Source.Metadata;

/// <summary>
/// Which event, if any, a change of one object from its last reported form (<c>before</c>) to its current one
/// (<c>after</c>; null: removed or tombstoned) means, and the events between two whole views after a rescan.
/// </summary>
internal static class SourceMetaTransitions
{
    private enum Phase
    {
        Absent,
        Creating,
        Created,
        Dropping,
    }

    public static SourceMetaEvent? OfDatabase(SourceDatabase? before, SourceDatabase? after, long revision) =>
        (PhaseOf(before), PhaseOf(after)) switch
        {
            (not Phase.Created, Phase.Created) => new DatabaseCreated(revision, after!),
            (Phase.Created, not Phase.Created) => new DatabaseDropped(revision, after ?? before!),
            _ => null,
        };

    public static SourceMetaEvent? OfCollection(SourceCollection? before, SourceCollection? after, long revision) =>
        (PhaseOf(before), PhaseOf(after)) switch
        {
            (Phase.Absent or Phase.Creating, Phase.Created) => new CollectionCreated(revision, after!),
            (Phase.Created, Phase.Dropping or Phase.Absent) => new CollectionDropped(revision, after ?? before!),
            (Phase.Creating, Phase.Dropping or Phase.Absent) => new CollectionDroppedBeforeCreated(revision, after ?? before!),
            _ => null,
        };

    /// <param name="collection">The partition's collection as it is now (null: gone).</param>
    public static SourceMetaEvent? OfPartition(
        SourcePartition? before, SourcePartition? after, SourceCollection? collection, long revision)
    {
        var partition = after ?? before;
        if (partition is null || partition.IsDefault) return null;
        var dbName = collection?.DbName ?? "";
        var collectionName = collection?.Name ?? "";
        return (PhaseOf(before), PhaseOf(after)) switch
        {
            (Phase.Absent or Phase.Creating, Phase.Created) => new PartitionCreated(revision, after!, dbName, collectionName),
            // A partition removed with its collection is covered by the collection's drop.
            (Phase.Created, Phase.Dropping or Phase.Absent) when collection is { IsCreated: true } =>
                new PartitionDropped(revision, partition, dbName, collectionName),
            _ => null,
        };
    }

    /// <summary>
    /// The events that lead from <paramref name="before"/> to <paramref name="after"/>: drops first (collections,
    /// partitions, databases), then creates (databases, collections, partitions), each kind in id order (Milvus ids
    /// grow with time), so a name dropped and created again in the gap is dropped before it is created.
    /// </summary>
    public static IReadOnlyList<SourceMetaEvent> Between(SourceMetaView before, SourceMetaView after, long revision)
    {
        var collections = Ids(before.Collections.Keys, after.Collections.Keys)
            .Select(id => OfCollection(before.Collection(id), after.Collection(id), revision))
            .OfType<SourceMetaEvent>().ToList();
        var partitions = Ids(before.Partitions.Keys, after.Partitions.Keys)
            .Select(id => OfPartition(before.Partition(id), after.Partition(id),
                after.Collection((after.Partition(id) ?? before.Partition(id))!.CollectionId), revision))
            .OfType<SourceMetaEvent>().ToList();
        var databases = Ids(before.Databases.Keys, after.Databases.Keys)
            .Select(id => OfDatabase(before.Database(id), after.Database(id), revision))
            .OfType<SourceMetaEvent>().ToList();

        return
        [
            .. collections.Where(e => e is not CollectionCreated),
            .. partitions.OfType<PartitionDropped>(),
            .. databases.OfType<DatabaseDropped>(),
            .. databases.OfType<DatabaseCreated>(),
            .. collections.OfType<CollectionCreated>(),
            .. partitions.OfType<PartitionCreated>(),
        ];
    }

    private static IEnumerable<long> Ids(IEnumerable<long> before, IEnumerable<long> after) => before.Union(after).Order();

    private static Phase PhaseOf(SourceDatabase? database) => database?.State switch
    {
        null => Phase.Absent,
        SourceDatabaseState.Created or SourceDatabaseState.Unknown => Phase.Created,
        SourceDatabaseState.Creating => Phase.Creating,
        _ => Phase.Dropping,
    };

    private static Phase PhaseOf(SourceCollection? collection) => collection?.State switch
    {
        null => Phase.Absent,
        SourceCollectionState.Created => Phase.Created,
        SourceCollectionState.Creating => Phase.Creating,
        _ => Phase.Dropping,
    };

    private static Phase PhaseOf(SourcePartition? partition) => partition?.State switch
    {
        null => Phase.Absent,
        SourcePartitionState.Created => Phase.Created,
        SourcePartitionState.Creating => Phase.Creating,
        _ => Phase.Dropping,
    };
}
