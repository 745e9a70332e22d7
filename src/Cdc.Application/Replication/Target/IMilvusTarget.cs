using Cdc.Domain.Changes;

namespace Cdc.Application.Replication.Target;

/// <summary>
/// The target Milvus, as the writer uses it. DDL/op calls carry replicateInfo{isReplicate, msgTimestamp =
/// <c>sourceTimestamp</c>} and pass the database as "dbname" metadata (db_name stays empty in the body).
/// Failures surface as <see cref="MilvusTargetException"/> after the retryable ones have been retried.
/// </summary>
public interface IMilvusTarget : IAsyncDisposable
{
    /// <summary>Forwards one pack of msgstream messages; returns the target position (base64 MQ id).</summary>
    Task<string> ReplicateMessageAsync(TargetReplicatePack pack, CancellationToken cancellationToken);

    Task CreateCollectionAsync(string database, TargetCollectionDefinition collection, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken);

    /// <summary>Null when the collection does not exist (Milvus code 100), its database included (code 800).</summary>
    Task<TargetCollection?> DescribeCollectionAsync(string database, string collection, CancellationToken cancellationToken);

    Task<bool> HasCollectionAsync(string database, string collection, CancellationToken cancellationToken);

    Task DropCollectionAsync(string database, string collection, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken);

    Task CreatePartitionAsync(string database, string collection, string partition, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken);

    Task<IReadOnlyList<TargetPartition>> ShowPartitionsAsync(string database, string collection, CancellationToken cancellationToken);

    Task DropPartitionAsync(string database, string collection, string partition, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken);

    Task CreateIndexAsync(string database, TargetIndexDefinition index, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken);

    Task DropIndexAsync(string database, string collection, string fieldName, string indexName, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken);

    Task AlterIndexAsync(string database, string collection, string indexName, IReadOnlyDictionary<string, string> parameters, IReadOnlyList<string> deleteKeys, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken);

    Task LoadCollectionAsync(string database, string collection, int replicaNumber, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken);

    Task ReleaseCollectionAsync(string database, string collection, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken);

    Task LoadPartitionsAsync(string database, string collection, IReadOnlyList<string> partitions, int replicaNumber, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken);

    Task ReleasePartitionsAsync(string database, string collection, IReadOnlyList<string> partitions, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken);

    Task FlushAsync(string database, string collection, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken);

    Task CreateDatabaseAsync(string database, IReadOnlyDictionary<string, string> properties, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken);

    Task<IReadOnlyList<string>> ListDatabasesAsync(CancellationToken cancellationToken);

    Task DropDatabaseAsync(string database, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken);

    Task AlterDatabaseAsync(string database, IReadOnlyDictionary<string, string> properties, IReadOnlyList<string> deleteKeys, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken);
}
