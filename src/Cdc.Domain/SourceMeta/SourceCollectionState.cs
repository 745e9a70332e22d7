namespace Cdc.Domain.SourceMeta;

/// <summary>Lifecycle of a source collection, same numbers as Milvus' etcd CollectionState.</summary>
public enum SourceCollectionState
{
    Created = 0,
    Creating = 1,
    Dropping = 2,
    Dropped = 3,
}
