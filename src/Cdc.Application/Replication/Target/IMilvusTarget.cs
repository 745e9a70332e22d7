using Cdc.Domain.Changes;

namespace Cdc.Application.Replication.Target;

/// <summary>
/// The target Milvus, as the writer uses it. DDL/op calls pass the database as "dbname" metadata (db_name stays empty
/// in the body) and, for a task in apply mode "replicate", carry replicateInfo{isReplicate, msgTimestamp =
/// <c>sourceTimestamp</c>}; in apply mode "upsert" (<see cref="MilvusConnection.ApplyMode"/>) they carry none, as any
/// client's. Each call is one attempt: a failure is a <see cref="MilvusTargetException"/> that says whether it is
/// retryable.
/// </summary>
public interface IMilvusTarget : IAsyncDisposable
{
    /// <summary>Forwards one pack of msgstream messages; returns the target position (base64 MQ id).</summary>
    Task<string> ReplicateMessageAsync(TargetReplicatePack pack, CancellationToken cancellationToken);

    /// <summary>Writes rows through the normal Upsert RPC (a row of an existing key replaces it); the rows the target took.</summary>
    Task<long> UpsertAsync(string database, TargetUpsert upsert, CancellationToken cancellationToken);

    /// <summary>Deletes the rows an expression names through the normal Delete RPC; the count the target answered.</summary>
    Task<long> DeleteAsync(string database, TargetDelete delete, CancellationToken cancellationToken);

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
