using Cdc.Infrastructure.Milvus.Protos.Common;
using Status = Cdc.Infrastructure.Milvus.Protos.Common.Status;
using Cdc.Infrastructure.Milvus.Protos.Schema;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Rpc = Cdc.Infrastructure.Milvus.Protos.Rpc;

namespace Cdc.Testing.Milvus;

/// <summary>
/// A plain Milvus client for tests, on the generated MilvusService stub (not the CDC's own client): what a user runs
/// against the target to see what it holds (count(*), rows by key) or to write a collection of their own. Every call
/// that answers an error status throws a <see cref="MilvusCallFailed"/> with it.
/// </summary>
public sealed class MilvusTestClient : IDisposable
{
    private readonly GrpcChannel _channel;
    private readonly Rpc.MilvusService.MilvusServiceClient _client;

    public MilvusTestClient(Uri address)
    {
        // Query results of many rows are larger than Grpc.Net.Client's 4 MB default.
        _channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { MaxReceiveMessageSize = null });
        _client = new Rpc.MilvusService.MilvusServiceClient(_channel);
    }

    /// <summary>count(*) of a collection (every row, a key written twice counted twice).</summary>
    public async Task<long> CountAsync(string database, string collection, CancellationToken ct = default)
    {
        var results = await QueryAsync(database, collection, "", ["count(*)"], ct);
        return results.FieldsData.Single().Scalars.LongData.Data.Single();
    }

    /// <summary>The rows of the given int64 keys (one a key), with the primary key and <paramref name="outputFields"/>.</summary>
    public Task<Rpc.QueryResults> FetchAsync(string database, string collection, string primaryKey, IEnumerable<long> keys, IReadOnlyList<string> outputFields, CancellationToken ct = default) =>
        QueryAsync(database, collection, $"{primaryKey} in [{string.Join(",", keys)}]", outputFields, ct);

    public async Task<Rpc.QueryResults> QueryAsync(string database, string collection, string expression, IReadOnlyList<string> outputFields, CancellationToken ct = default)
    {
        var request = new Rpc.QueryRequest { CollectionName = collection, Expr = expression };
        request.OutputFields.AddRange(outputFields);
        var results = await CallAsync(_client.QueryAsync, request, database, ct);
        Check("Query", results.Status);
        return results;
    }

    public async Task CreateCollectionAsync(string database, CollectionSchema schema, int shards = 1, CancellationToken ct = default) =>
        Check("CreateCollection", await CallAsync(_client.CreateCollectionAsync,
            new Rpc.CreateCollectionRequest { CollectionName = schema.Name, Schema = schema.ToByteString(), ShardsNum = shards }, database, ct));

    public async Task LoadCollectionAsync(string database, string collection, CancellationToken ct = default) =>
        Check("LoadCollection", await CallAsync(_client.LoadCollectionAsync, new Rpc.LoadCollectionRequest { CollectionName = collection }, database, ct));

    public async Task<Rpc.MutationResult> UpsertAsync(string database, string collection, IReadOnlyList<FieldData> columns, uint rows, string partition = "", CancellationToken ct = default)
    {
        var request = new Rpc.UpsertRequest { CollectionName = collection, PartitionName = partition, NumRows = rows };
        request.FieldsData.AddRange(columns);
        var result = await CallAsync(_client.UpsertAsync, request, database, ct);
        Check("Upsert", result.Status);
        return result;
    }

    public async Task<Rpc.MutationResult> DeleteAsync(string database, string collection, string expression, string partition = "", CancellationToken ct = default)
    {
        var result = await CallAsync(_client.DeleteAsync, new Rpc.DeleteRequest { CollectionName = collection, Expr = expression, PartitionName = partition }, database, ct);
        Check("Delete", result.Status);
        return result;
    }

    /// <summary>An int64 column.</summary>
    public static FieldData Int64Column(string name, IEnumerable<long> values) =>
        new() { Type = DataType.Int64, FieldName = name, Scalars = new ScalarField { LongData = new LongArray { Data = { values } } } };

    /// <summary>A VarChar column.</summary>
    public static FieldData VarCharColumn(string name, IEnumerable<string> values) =>
        new() { Type = DataType.VarChar, FieldName = name, Scalars = new ScalarField { StringData = new StringArray { Data = { values } } } };

    /// <summary>A float vector column of <paramref name="dim"/>, one vector a row.</summary>
    public static FieldData FloatVectorColumn(string name, int dim, IEnumerable<float[]> vectors) =>
        new() { Type = DataType.FloatVector, FieldName = name, Vectors = new VectorField { Dim = dim, FloatVector = new FloatArray { Data = { vectors.SelectMany(v => v) } } } };

    private static async Task<TResponse> CallAsync<TRequest, TResponse>(
        Func<TRequest, CallOptions, AsyncUnaryCall<TResponse>> rpc, TRequest request, string database, CancellationToken ct)
    {
        using var call = rpc(request, new CallOptions(new Metadata { { "dbname", database } }, DateTime.UtcNow.AddSeconds(30), ct));
        return await call.ResponseAsync;
    }

    private static void Check(string operation, Status? status)
    {
        if (status is { Code: not 0 }) throw new MilvusCallFailed(operation, status.Code, status.Reason);
    }

    public void Dispose() => _channel.Dispose();
}

/// <summary>A Milvus call answered with an error status.</summary>
public sealed class MilvusCallFailed(string operation, int code, string reason) : Exception($"{operation} failed with code {code}: {reason}")
{
    public int Code { get; } = code;

    public string Reason { get; } = reason;
}
