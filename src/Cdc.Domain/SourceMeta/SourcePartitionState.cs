namespace Cdc.Domain.SourceMeta;

/// <summary>Lifecycle of a source partition, same numbers as Milvus' etcd PartitionState.</summary>
public enum SourcePartitionState
{
    Created = 0,
    Creating = 1,
    Dropping = 2,
    Dropped = 3,
}
