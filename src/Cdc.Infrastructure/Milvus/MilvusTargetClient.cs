using System.Text;
using Cdc.Application.Replication.Ports;
using Cdc.Domain.Changes;
using Cdc.Infrastructure.Milvus.Grpc;
using Cdc.Infrastructure.Milvus.Protos.Common;
using Cdc.Infrastructure.Milvus.Protos.Msg;
using Google.Protobuf;
using Polly;
using Polly.Retry;
using Rpc = Cdc.Infrastructure.Milvus.Protos.Rpc;

namespace Cdc.Infrastructure.Milvus;

/// <summary>
/// The target Milvus over its MilvusService gRPC API. DDL and op requests leave db_name empty, pass the database as
/// "dbname" metadata and mark themselves as replicated (base.replicateInfo) with the source timestamp, as the
/// reference CDC does. "authorization" is base64(token). Retryable failures are retried with backoff.
/// </summary>
public sealed class MilvusTargetClient : IMilvusTarget
{
    public const string ServicePath = "/milvus.proto.milvus.MilvusService/";

    private readonly GrpcUnaryChannel _channel;
    private readonly ResiliencePipeline _retry;
    private readonly string? _authorization;

    public MilvusTargetClient(MilvusConnection connection, MilvusClientOptions options, TimeProvider timeProvider)
        : this(MilvusHttpTransport.CreateHandler(connection), connection, options, timeProvider)
    {
    }

    internal MilvusTargetClient(HttpMessageHandler handler, MilvusConnection connection, MilvusClientOptions options, TimeProvider timeProvider)
    {
        _channel = new GrpcUnaryChannel(handler, MilvusHttpTransport.BaseAddress(connection), connection.EffectiveTimeout, timeProvider);
        _authorization = connection.Token.Length > 0 ? Convert.ToBase64String(Encoding.UTF8.GetBytes(connection.Token)) : null;
        _retry = BuildRetry(options, timeProvider);
    }

    public async Task<string> ReplicateMessageAsync(TargetReplicatePack pack, CancellationToken cancellationToken)
    {
        // Encoded in pieces: the messages (3 MB for a 1,000-row insert of 768-dim vectors, itself partly a slice of the
        // Kafka record) go to the HTTP/2 stream as they are, never copied into one request buffer.
        var head = new Rpc.ReplicateMessageRequest
        {
            Base = new MsgBase { ReplicateInfo = new ReplicateInfo { IsReplicate = true, ReplicateID = pack.ReplicateId } },
            ChannelName = pack.ChannelName,
            BeginTs = pack.BeginTs.Value,
            EndTs = pack.EndTs.Value,
        };
        var tail = new Rpc.ReplicateMessageRequest();
        tail.StartPositions.AddRange(pack.StartPositions.Select(ToPosition));
        tail.EndPositions.AddRange(pack.EndPositions.Select(ToPosition));
        var request = GrpcMessageBody.WithRepeatedBytes(head, Rpc.ReplicateMessageRequest.MsgsFieldNumber, pack.Messages, tail);
        var response = await InvokeAsync("ReplicateMessage", request, Rpc.ReplicateMessageResponse.Parser, null, r => r.Status, cancellationToken);
        return response.Position;
    }

    public Task CreateCollectionAsync(string database, TargetCollectionDefinition collection, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken)
    {
        var request = new Rpc.CreateCollectionRequest
        {
            Base = Replicated(sourceTimestamp),
            CollectionName = collection.Name,
            Schema = ByteString.CopyFrom(collection.Schema.Span),
            ShardsNum = collection.ShardsNum,
            ConsistencyLevel = (ConsistencyLevel)(int)collection.ConsistencyLevel,
        };
        request.Properties.AddRange(KeyValuePairs.From(collection.Properties));
        return InvokeStatusAsync("CreateCollection", request, database, cancellationToken);
    }

    public async Task<TargetCollection?> DescribeCollectionAsync(string database, string collection, CancellationToken cancellationToken)
    {
        var request = new Rpc.DescribeCollectionRequest { Base = new MsgBase(), CollectionName = collection };
        try
        {
            var response = await InvokeAsync("DescribeCollection", request, Rpc.DescribeCollectionResponse.Parser, database, r => r.Status, cancellationToken);
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
        var response = await InvokeAsync("HasCollection", request, Rpc.BoolResponse.Parser, database, r => r.Status, cancellationToken);
        return response.Value;
    }

    public Task DropCollectionAsync(string database, string collection, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) =>
        InvokeStatusAsync("DropCollection", new Rpc.DropCollectionRequest { Base = Replicated(sourceTimestamp), CollectionName = collection }, database, cancellationToken);

    public Task CreatePartitionAsync(string database, string collection, string partition, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) =>
        InvokeStatusAsync("CreatePartition", new Rpc.CreatePartitionRequest
        {
            Base = Replicated(sourceTimestamp),
            CollectionName = collection,
            PartitionName = partition,
        }, database, cancellationToken);

    public async Task<IReadOnlyList<TargetPartition>> ShowPartitionsAsync(string database, string collection, CancellationToken cancellationToken)
    {
        var request = new Rpc.ShowPartitionsRequest { Base = new MsgBase(), CollectionName = collection };
        var response = await InvokeAsync("ShowPartitions", request, Rpc.ShowPartitionsResponse.Parser, database, r => r.Status, cancellationToken);
        return response.PartitionNames
            .Select((name, i) => new TargetPartition(name, i < response.PartitionIDs.Count ? response.PartitionIDs[i] : 0))
            .ToList();
    }

    public Task DropPartitionAsync(string database, string collection, string partition, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) =>
        InvokeStatusAsync("DropPartition", new Rpc.DropPartitionRequest
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
        return InvokeStatusAsync("CreateIndex", request, database, cancellationToken);
    }

    public Task DropIndexAsync(string database, string collection, string fieldName, string indexName, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) =>
        InvokeStatusAsync("DropIndex", new Rpc.DropIndexRequest
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
        return InvokeStatusAsync("AlterIndex", request, database, cancellationToken);
    }

    public Task LoadCollectionAsync(string database, string collection, int replicaNumber, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) =>
        InvokeStatusAsync("LoadCollection", new Rpc.LoadCollectionRequest
        {
            Base = Replicated(sourceTimestamp),
            CollectionName = collection,
            ReplicaNumber = replicaNumber,
        }, database, cancellationToken);

    public Task ReleaseCollectionAsync(string database, string collection, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) =>
        InvokeStatusAsync("ReleaseCollection", new Rpc.ReleaseCollectionRequest { Base = Replicated(sourceTimestamp), CollectionName = collection }, database, cancellationToken);

    public Task LoadPartitionsAsync(string database, string collection, IReadOnlyList<string> partitions, int replicaNumber, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken)
    {
        var request = new Rpc.LoadPartitionsRequest { Base = Replicated(sourceTimestamp), CollectionName = collection, ReplicaNumber = replicaNumber };
        request.PartitionNames.AddRange(partitions);
        return InvokeStatusAsync("LoadPartitions", request, database, cancellationToken);
    }

    public Task ReleasePartitionsAsync(string database, string collection, IReadOnlyList<string> partitions, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken)
    {
        var request = new Rpc.ReleasePartitionsRequest { Base = Replicated(sourceTimestamp), CollectionName = collection };
        request.PartitionNames.AddRange(partitions);
        return InvokeStatusAsync("ReleasePartitions", request, database, cancellationToken);
    }

    public async Task FlushAsync(string database, string collection, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken)
    {
        var request = new Rpc.FlushRequest { Base = Replicated(sourceTimestamp) };
        request.CollectionNames.Add(collection);
        await InvokeAsync("Flush", request, Rpc.FlushResponse.Parser, database, r => r.Status, cancellationToken);
    }

    public Task CreateDatabaseAsync(string database, IReadOnlyDictionary<string, string> properties, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken)
    {
        // The database does not exist yet, so it travels in the body as well as in the metadata.
        var request = new Rpc.CreateDatabaseRequest { Base = Replicated(sourceTimestamp), DbName = database };
        request.Properties.AddRange(KeyValuePairs.From(properties));
        return InvokeStatusAsync("CreateDatabase", request, null, cancellationToken);
    }

    public async Task<IReadOnlyList<string>> ListDatabasesAsync(CancellationToken cancellationToken)
    {
        var response = await InvokeAsync("ListDatabases", new Rpc.ListDatabasesRequest { Base = new MsgBase() }, Rpc.ListDatabasesResponse.Parser, null, r => r.Status, cancellationToken);
        return [.. response.DbNames];
    }

    public Task DropDatabaseAsync(string database, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken) =>
        InvokeStatusAsync("DropDatabase", new Rpc.DropDatabaseRequest { Base = Replicated(sourceTimestamp), DbName = database }, null, cancellationToken);

    public Task AlterDatabaseAsync(string database, IReadOnlyDictionary<string, string> properties, IReadOnlyList<string> deleteKeys, HybridTimestamp sourceTimestamp, CancellationToken cancellationToken)
    {
        var request = new Rpc.AlterDatabaseRequest { Base = Replicated(sourceTimestamp), DbName = database };
        request.Properties.AddRange(KeyValuePairs.From(properties));
        request.DeleteKeys.AddRange(deleteKeys);
        return InvokeStatusAsync("AlterDatabase", request, null, cancellationToken);
    }

    public ValueTask DisposeAsync()
    {
        _channel.Dispose();
        return ValueTask.CompletedTask;
    }

    private Task InvokeStatusAsync(string operation, IMessage request, string? database, CancellationToken cancellationToken) =>
        InvokeAsync(operation, request, Status.Parser, database, s => s, cancellationToken);

    private Task<TResponse> InvokeAsync<TResponse>(
        string operation,
        IMessage request,
        MessageParser<TResponse> parser,
        string? database,
        Func<TResponse, Status?> statusOf,
        CancellationToken cancellationToken)
        where TResponse : IMessage<TResponse> =>
        InvokeAsync(operation, GrpcMessageBody.Of(request), parser, database, statusOf, cancellationToken);

    private async Task<TResponse> InvokeAsync<TResponse>(
        string operation,
        GrpcMessageBody request,
        MessageParser<TResponse> parser,
        string? database,
        Func<TResponse, Status?> statusOf,
        CancellationToken cancellationToken)
        where TResponse : IMessage<TResponse>
    {
        var metadata = Metadata(database);
        return await _retry.ExecuteAsync(async token =>
        {
            TResponse response;
            try
            {
                response = await _channel.CallAsync(ServicePath + operation, request, parser, metadata, token);
            }
            catch (GrpcCallException ex)
            {
                throw MilvusErrorMapping.FromGrpc(operation, ex);
            }

            MilvusErrorMapping.ThrowIfFailed(operation, statusOf(response));
            return response;
        }, cancellationToken);
    }

    private List<KeyValuePair<string, string>> Metadata(string? database)
    {
        var metadata = new List<KeyValuePair<string, string>>(2);
        if (_authorization is not null)
        {
            metadata.Add(new("authorization", _authorization));
        }

        if (!string.IsNullOrEmpty(database))
        {
            metadata.Add(new("dbname", database));
        }

        return metadata;
    }

    private static MsgBase Replicated(HybridTimestamp sourceTimestamp) =>
        new() { ReplicateInfo = new ReplicateInfo { IsReplicate = true, MsgTimestamp = sourceTimestamp.Value } };

    private static MsgPosition ToPosition(TargetPackPosition position) => new()
    {
        ChannelName = position.ChannelName,
        MsgID = ByteString.CopyFrom(position.MsgId),
        MsgGroup = position.MsgGroup,
        Timestamp = position.Timestamp.Value,
    };

    private static ResiliencePipeline BuildRetry(MilvusClientOptions options, TimeProvider timeProvider)
    {
        var builder = new ResiliencePipelineBuilder { TimeProvider = timeProvider };
        if (options.MaxRetryAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<MilvusTargetException>(ex => ex.IsRetryable),
                MaxRetryAttempts = options.MaxRetryAttempts,
                Delay = options.RetryBaseDelay,
                MaxDelay = options.RetryMaxDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
            });
        }

        return builder.Build();
    }
}
