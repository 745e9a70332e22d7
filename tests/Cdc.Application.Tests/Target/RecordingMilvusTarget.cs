using Cdc.Application.Replication.Target;
using Cdc.Domain.Changes;

namespace Cdc.Application.Tests.Target;

/// <summary>An <see cref="IMilvusTarget"/> that records ReplicateMessage calls and can fail the next ones.</summary>
internal sealed class RecordingMilvusTarget : IMilvusTarget
{
    public List<TargetReplicatePack> Packs { get; } = [];

    public int FailNext { get; set; }

    /// <summary>Called with each pack as it arrives, before it is taken (to look at what was persisted by then).</summary>
    public Func<TargetReplicatePack, Task>? OnArrival { get; set; }

    public async Task<string> ReplicateMessageAsync(TargetReplicatePack pack, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (OnArrival is { } arrival) await arrival(pack);
        if (FailNext > 0)
        {
            FailNext--;
            throw new MilvusTargetException("ReplicateMessage", null, 65535, false, "injected");
        }

        Packs.Add(pack);
        return $"pos-{Packs.Count}";
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    public Task<long> UpsertAsync(string database, TargetUpsert upsert, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<long> DeleteAsync(string database, TargetDelete delete, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task CreateCollectionAsync(string database, TargetCollectionDefinition collection, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<TargetCollection?> DescribeCollectionAsync(string database, string collection, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<bool> HasCollectionAsync(string database, string collection, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task DropCollectionAsync(string database, string collection, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task CreatePartitionAsync(string database, string collection, string partition, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<IReadOnlyList<TargetPartition>> ShowPartitionsAsync(string database, string collection, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task DropPartitionAsync(string database, string collection, string partition, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task CreateIndexAsync(string database, TargetIndexDefinition index, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task DropIndexAsync(string database, string collection, string fieldName, string indexName, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task AlterIndexAsync(string database, string collection, string indexName, IReadOnlyDictionary<string, string> parameters, IReadOnlyList<string> deleteKeys, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task LoadCollectionAsync(string database, string collection, int replicaNumber, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task ReleaseCollectionAsync(string database, string collection, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task LoadPartitionsAsync(string database, string collection, IReadOnlyList<string> partitions, int replicaNumber, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task ReleasePartitionsAsync(string database, string collection, IReadOnlyList<string> partitions, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task FlushAsync(string database, string collection, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task CreateDatabaseAsync(string database, IReadOnlyDictionary<string, string> properties, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<IReadOnlyList<string>> ListDatabasesAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task DropDatabaseAsync(string database, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task AlterDatabaseAsync(string database, IReadOnlyDictionary<string, string> properties, IReadOnlyList<string> deleteKeys, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) => throw new NotSupportedException();
}
