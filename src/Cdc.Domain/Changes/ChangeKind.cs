namespace Cdc.Domain.Changes;

/// <summary>The operations the replicator understands; names match Milvus' MsgType names.</summary>
public enum ChangeKind
{
    Insert,
    Delete,
    TimeTick,
    CreateCollection,
    DropCollection,
    CreatePartition,
    DropPartition,
    CreateIndex,
    DropIndex,
    AlterIndex,
    LoadCollection,
    ReleaseCollection,
    LoadPartitions,
    ReleasePartitions,
    Flush,
    CreateDatabase,
    DropDatabase,
    AlterDatabase,
    Replicate,
    Import,
}
