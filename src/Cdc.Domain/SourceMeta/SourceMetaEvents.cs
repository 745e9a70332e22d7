namespace Cdc.Domain.SourceMeta;

/// <summary>
/// Something that happened to the source Milvus' metadata. <paramref name="Revision"/> is the metadata store
/// revision at which it was seen: the change's own revision, or the revision of the rescan that found it after the
/// store's history had been compacted.
/// </summary>
public abstract record SourceMetaEvent(long Revision);

/// <summary>A database reached the created state.</summary>
public sealed record DatabaseCreated(long Revision, SourceDatabase Database) : SourceMetaEvent(Revision);

/// <summary>A created database began dropping or was removed.</summary>
public sealed record DatabaseDropped(long Revision, SourceDatabase Database) : SourceMetaEvent(Revision);

/// <summary>A collection reached the created state (its schema, channels and start positions are final).</summary>
public sealed record CollectionCreated(long Revision, SourceCollection Collection) : SourceMetaEvent(Revision);

/// <summary>A created collection began dropping (state Dropping/Dropped) or was removed (tombstone).</summary>
public sealed record CollectionDropped(long Revision, SourceCollection Collection) : SourceMetaEvent(Revision);

/// <summary>
/// A collection that never reached the created state was removed (a tombstone whose previous value was
/// Creating): the source rolled a failed creation back. Nothing of it is to be replicated.
/// </summary>
public sealed record CollectionDroppedBeforeCreated(long Revision, SourceCollection Collection) : SourceMetaEvent(Revision);

/// <summary>
/// A partition other than a default one reached the created state. <paramref name="DbName"/> and
/// <paramref name="CollectionName"/> are its collection's (empty when the store does not know the collection).
/// </summary>
public sealed record PartitionCreated(long Revision, SourcePartition Partition, string DbName, string CollectionName)
    : SourceMetaEvent(Revision);

/// <summary>
/// A created partition other than a default one began dropping or was removed, while its collection stays created
/// (partitions removed with their collection are covered by <see cref="CollectionDropped"/>).
/// </summary>
public sealed record PartitionDropped(long Revision, SourcePartition Partition, string DbName, string CollectionName)
    : SourceMetaEvent(Revision);
