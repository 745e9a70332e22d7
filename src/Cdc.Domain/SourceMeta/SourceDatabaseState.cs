namespace Cdc.Domain.SourceMeta;

/// <summary>Lifecycle of a source database, same numbers as Milvus' etcd DatabaseState.</summary>
public enum SourceDatabaseState
{
    /// <summary>Not set; written by Milvus releases before database states existed. Treated as created.</summary>
    Unknown = 0,
    Created = 1,
    Creating = 2,
    Dropping = 3,
    Dropped = 4,
}
