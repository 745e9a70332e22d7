using System.Buffers;
using System.Text;
using Cdc.Application.Replication.Target;
using Cdc.Domain.Changes;
using Cdc.Domain.Tasks;
using Cdc.Infrastructure.Milvus.Protos.Common;
using Cdc.Infrastructure.Milvus.Protos.Msg;
using Cdc.Infrastructure.MilvusWire;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Rpc = Cdc.Infrastructure.Milvus.Protos.Rpc;
using Status = Cdc.Infrastructure.Milvus.Protos.Common.Status;

namespace Cdc.Infrastructure.Target;

/// <summary>
/// The target's DDL and control operations: databases, collections, partitions, indexes, load/release and flush. In
/// apply mode "replicate" each request carries the source timestamp in base.replicateInfo (<see cref="Replicated"/>).
/// </summary>
public sealed partial class MilvusTargetClient
{
    public Task CreateCollectionAsync(string database, TargetCollectionDefinition collection, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken)
    {
        var request = new Rpc.CreateCollectionRequest
        {
            Base = Replicated(sourceTimestamp),
            CollectionName = collection.Name,
            Schema = SchemaNamed(collection.Schema, collection.Name),
            ShardsNum = collection.ShardsNum,
            ConsistencyLevel = (ConsistencyLevel)(int)collection.ConsistencyLevel,
        };
        request.Properties.AddRange(KeyValuePairs.From(collection.Properties));
        return InvokeStatusAsync("CreateCollection", _client.CreateCollectionAsync, request, database, cancellationToken);
    }

    /// <summary>
    /// The schema under the target collection's name: Milvus refuses a CreateCollection whose schema name differs from
    /// its collection_name (milvus-proto schema.proto CollectionSchema.name = 1), as it does when a task renames.
    /// </summary>
    private static ByteString SchemaNamed(ReadOnlyMemory<byte> serialized, string name)
    {
        var schema = Milvus.Protos.Schema.CollectionSchema.Parser.ParseFrom(serialized.Span);
        if (schema.Name == name) return ByteString.CopyFrom(serialized.Span);
        schema.Name = name;
        return schema.ToByteString();
    }

    public async Task<TargetCollection?> DescribeCollectionAsync(string database, string collection, CancellationToken cancellationToken)
    {
        var request = new Rpc.DescribeCollectionRequest { Base = new MsgBase(), CollectionName = collection };
        try
        {
            var response = await InvokeAsync("DescribeCollection", _client.DescribeCollectionAsync, request, database, r => r.Status, cancellationToken);
            return new TargetCollection(
                response.CollectionID,
                response.CollectionName,
                response.DbName,
                response.ShardsNum,
                [.. response.VirtualChannelNames],
                [.. response.PhysicalChannelNames],
                new HybridTimestamp(response.CreatedTimestamp),
                response.Schema?.ToByteArray() ?? []);
        }
        catch (MilvusTargetException ex) when (ex.IsCollectionNotFound || ex.IsDatabaseNotFound)
        {
            return null;
        }
    }

    public async Task<bool> HasCollectionAsync(string database, string collection, CancellationToken cancellationToken)
    {
        var request = new Rpc.HasCollectionRequest { Base = new MsgBase(), CollectionName = collection };
        var response = await InvokeAsync("HasCollection", _client.HasCollectionAsync, request, database, r => r.Status, cancellationToken);
        return response.Value;
    }

    public Task DropCollectionAsync(string database, string collection, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) =>
        InvokeStatusAsync("DropCollection", _client.DropCollectionAsync, new Rpc.DropCollectionRequest { Base = Replicated(sourceTimestamp), CollectionName = collection }, database, cancellationToken);

    public Task CreatePartitionAsync(string database, string collection, string partition, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) =>
        InvokeStatusAsync("CreatePartition", _client.CreatePartitionAsync, new Rpc.CreatePartitionRequest
        {
            Base = Replicated(sourceTimestamp),
            CollectionName = collection,
            PartitionName = partition,
        }, database, cancellationToken);

    public async Task<IReadOnlyList<TargetPartition>> ShowPartitionsAsync(string database, string collection, CancellationToken cancellationToken)
    {
        var request = new Rpc.ShowPartitionsRequest { Base = new MsgBase(), CollectionName = collection };
        var response = await InvokeAsync("ShowPartitions", _client.ShowPartitionsAsync, request, database, r => r.Status, cancellationToken);
        return response.PartitionNames
            .Select((name, i) => new TargetPartition(name, i < response.PartitionIDs.Count ? response.PartitionIDs[i] : 0))
            .ToList();
    }

    public Task DropPartitionAsync(string database, string collection, string partition, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) =>
        InvokeStatusAsync("DropPartition", _client.DropPartitionAsync, new Rpc.DropPartitionRequest
        {
            Base = Replicated(sourceTimestamp),
            CollectionName = collection,
            PartitionName = partition,
        }, database, cancellationToken);

    public Task CreateIndexAsync(string database, TargetIndexDefinition index, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken)
    {
        var request = new Rpc.CreateIndexRequest
        {
            Base = Replicated(sourceTimestamp),
            CollectionName = index.CollectionName,
            FieldName = index.FieldName,
            IndexName = index.IndexName,
        };
        request.ExtraParams.AddRange(KeyValuePairs.From(index.Parameters));
        return InvokeStatusAsync("CreateIndex", _client.CreateIndexAsync, request, database, cancellationToken);
    }

    public Task DropIndexAsync(string database, string collection, string fieldName, string indexName, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) =>
        InvokeStatusAsync("DropIndex", _client.DropIndexAsync, new Rpc.DropIndexRequest
        {
            Base = Replicated(sourceTimestamp),
            CollectionName = collection,
            FieldName = fieldName,
            IndexName = indexName,
        }, database, cancellationToken);

    public Task AlterIndexAsync(string database, string collection, string indexName, IReadOnlyDictionary<string, string> parameters, IReadOnlyList<string> deleteKeys, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken)
    {
        var request = new Rpc.AlterIndexRequest { Base = Replicated(sourceTimestamp), CollectionName = collection, IndexName = indexName };
        request.ExtraParams.AddRange(KeyValuePairs.From(parameters));
        request.DeleteKeys.AddRange(deleteKeys);
        return InvokeStatusAsync("AlterIndex", _client.AlterIndexAsync, request, database, cancellationToken);
    }

    public Task LoadCollectionAsync(string database, string collection, int replicaNumber, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) =>
        InvokeStatusAsync("LoadCollection", _client.LoadCollectionAsync, new Rpc.LoadCollectionRequest
        {
            Base = Replicated(sourceTimestamp),
            CollectionName = collection,
            ReplicaNumber = replicaNumber,
        }, database, cancellationToken);

    public Task ReleaseCollectionAsync(string database, string collection, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) =>
        InvokeStatusAsync("ReleaseCollection", _client.ReleaseCollectionAsync, new Rpc.ReleaseCollectionRequest { Base = Replicated(sourceTimestamp), CollectionName = collection }, database, cancellationToken);

    public Task LoadPartitionsAsync(string database, string collection, IReadOnlyList<string> partitions, int replicaNumber, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken)
    {
        var request = new Rpc.LoadPartitionsRequest { Base = Replicated(sourceTimestamp), CollectionName = collection, ReplicaNumber = replicaNumber };
        request.PartitionNames.AddRange(partitions);
        return InvokeStatusAsync("LoadPartitions", _client.LoadPartitionsAsync, request, database, cancellationToken);
    }

    public Task ReleasePartitionsAsync(string database, string collection, IReadOnlyList<string> partitions, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken)
    {
        var request = new Rpc.ReleasePartitionsRequest { Base = Replicated(sourceTimestamp), CollectionName = collection };
        request.PartitionNames.AddRange(partitions);
        return InvokeStatusAsync("ReleasePartitions", _client.ReleasePartitionsAsync, request, database, cancellationToken);
    }

    public async Task FlushAsync(string database, string collection, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken)
    {
        var request = new Rpc.FlushRequest { Base = Replicated(sourceTimestamp) };
        request.CollectionNames.Add(collection);
        await InvokeAsync("Flush", _client.FlushAsync, request, database, r => r.Status, cancellationToken);
    }

    public Task CreateDatabaseAsync(string database, IReadOnlyDictionary<string, string> properties, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken)
    {
        // The database does not exist yet, so it travels in the body as well as in the metadata.
        var request = new Rpc.CreateDatabaseRequest { Base = Replicated(sourceTimestamp), DbName = database };
        request.Properties.AddRange(KeyValuePairs.From(properties));
        return InvokeStatusAsync("CreateDatabase", _client.CreateDatabaseAsync, request, null, cancellationToken);
    }

    public async Task<IReadOnlyList<string>> ListDatabasesAsync(CancellationToken cancellationToken)
    {
        var response = await InvokeAsync("ListDatabases", _client.ListDatabasesAsync, new Rpc.ListDatabasesRequest { Base = new MsgBase() }, null, r => r.Status, cancellationToken);
        return [.. response.DbNames];
    }

    public Task DropDatabaseAsync(string database, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) =>
        InvokeStatusAsync("DropDatabase", _client.DropDatabaseAsync, new Rpc.DropDatabaseRequest { Base = Replicated(sourceTimestamp), DbName = database }, null, cancellationToken);

    public Task AlterDatabaseAsync(string database, IReadOnlyDictionary<string, string> properties, IReadOnlyList<string> deleteKeys, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken)
    {
        var request = new Rpc.AlterDatabaseRequest { Base = Replicated(sourceTimestamp), DbName = database };
        request.Properties.AddRange(KeyValuePairs.From(properties));
        request.DeleteKeys.AddRange(deleteKeys);
        return InvokeStatusAsync("AlterDatabase", _client.AlterDatabaseAsync, request, null, cancellationToken);
    }
}
