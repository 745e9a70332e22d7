using Cdc.Domain.Changes;

namespace Cdc.Application.Replication.Target;

/// <summary>
/// A target Milvus whose every call (attempted, whatever its outcome) is counted for the task by its RPC name, the
/// reference's <c>milvus_cdc_api_execute_total{task_id,api_type}</c>.
/// </summary>
public sealed class MeteredMilvusTarget(IMilvusTarget inner, Action<string> called) : IMilvusTarget
{
    private T Count<T>(string api, T call)
    {
        called(api);
        return call;
    }

    public Task<string> ReplicateMessageAsync(TargetReplicatePack pack, CancellationToken cancellationToken) =>
        Count("ReplicateMessage", inner.ReplicateMessageAsync(pack, cancellationToken));

    public Task<long> UpsertAsync(string database, TargetUpsert upsert, CancellationToken cancellationToken) =>
        Count("Upsert", inner.UpsertAsync(database, upsert, cancellationToken));

    public Task<long> DeleteAsync(string database, TargetDelete delete, CancellationToken cancellationToken) =>
        Count("Delete", inner.DeleteAsync(database, delete, cancellationToken));

    public Task CreateCollectionAsync(string database, TargetCollectionDefinition collection, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) =>
        Count("CreateCollection", inner.CreateCollectionAsync(database, collection, sourceTimestamp, cancellationToken));

    public Task<TargetCollection?> DescribeCollectionAsync(string database, string collection, CancellationToken cancellationToken) =>
        Count("DescribeCollection", inner.DescribeCollectionAsync(database, collection, cancellationToken));

    public Task<bool> HasCollectionAsync(string database, string collection, CancellationToken cancellationToken) =>
        Count("HasCollection", inner.HasCollectionAsync(database, collection, cancellationToken));

    public Task DropCollectionAsync(string database, string collection, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) =>
        Count("DropCollection", inner.DropCollectionAsync(database, collection, sourceTimestamp, cancellationToken));

    public Task CreatePartitionAsync(string database, string collection, string partition, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) =>
        Count("CreatePartition", inner.CreatePartitionAsync(database, collection, partition, sourceTimestamp, cancellationToken));

    public Task<IReadOnlyList<TargetPartition>> ShowPartitionsAsync(string database, string collection, CancellationToken cancellationToken) =>
        Count("ShowPartitions", inner.ShowPartitionsAsync(database, collection, cancellationToken));

    public Task DropPartitionAsync(string database, string collection, string partition, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) =>
        Count("DropPartition", inner.DropPartitionAsync(database, collection, partition, sourceTimestamp, cancellationToken));

    public Task CreateIndexAsync(string database, TargetIndexDefinition index, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) =>
        Count("CreateIndex", inner.CreateIndexAsync(database, index, sourceTimestamp, cancellationToken));

    public Task DropIndexAsync(string database, string collection, string fieldName, string indexName, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) =>
        Count("DropIndex", inner.DropIndexAsync(database, collection, fieldName, indexName, sourceTimestamp, cancellationToken));

    public Task AlterIndexAsync(string database, string collection, string indexName, IReadOnlyDictionary<string, string> parameters, IReadOnlyList<string> deleteKeys, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) =>
        Count("AlterIndex", inner.AlterIndexAsync(database, collection, indexName, parameters, deleteKeys, sourceTimestamp, cancellationToken));

    public Task LoadCollectionAsync(string database, string collection, int replicaNumber, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) =>
        Count("LoadCollection", inner.LoadCollectionAsync(database, collection, replicaNumber, sourceTimestamp, cancellationToken));

    public Task ReleaseCollectionAsync(string database, string collection, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) =>
        Count("ReleaseCollection", inner.ReleaseCollectionAsync(database, collection, sourceTimestamp, cancellationToken));

    public Task LoadPartitionsAsync(string database, string collection, IReadOnlyList<string> partitions, int replicaNumber, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) =>
        Count("LoadPartitions", inner.LoadPartitionsAsync(database, collection, partitions, replicaNumber, sourceTimestamp, cancellationToken));

    public Task ReleasePartitionsAsync(string database, string collection, IReadOnlyList<string> partitions, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) =>
        Count("ReleasePartitions", inner.ReleasePartitionsAsync(database, collection, partitions, sourceTimestamp, cancellationToken));

    public Task FlushAsync(string database, string collection, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) =>
        Count("Flush", inner.FlushAsync(database, collection, sourceTimestamp, cancellationToken));

    public Task CreateDatabaseAsync(string database, IReadOnlyDictionary<string, string> properties, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) =>
        Count("CreateDatabase", inner.CreateDatabaseAsync(database, properties, sourceTimestamp, cancellationToken));

    public Task<IReadOnlyList<string>> ListDatabasesAsync(CancellationToken cancellationToken) =>
        Count("ListDatabases", inner.ListDatabasesAsync(cancellationToken));

    public Task DropDatabaseAsync(string database, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) =>
        Count("DropDatabase", inner.DropDatabaseAsync(database, sourceTimestamp, cancellationToken));

    public Task AlterDatabaseAsync(string database, IReadOnlyDictionary<string, string> properties, IReadOnlyList<string> deleteKeys, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) =>
        Count("AlterDatabase", inner.AlterDatabaseAsync(database, properties, deleteKeys, sourceTimestamp, cancellationToken));

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
