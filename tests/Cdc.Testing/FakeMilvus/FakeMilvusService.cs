using Grpc.Core;
using Rpc = Cdc.Infrastructure.Milvus.Protos.Rpc;
using Status = Cdc.Infrastructure.Milvus.Protos.Common.Status;

namespace Cdc.Testing.FakeMilvus;

/// <summary>
/// The MilvusService RPCs the CDC writer calls, served by <see cref="FakeMilvusServer"/>; each says how a Milvus error
/// status travels in its response (the whole response for common.Status, its status field otherwise). Methods outside
/// the project's milvus.proto (Search, ...) are UNIMPLEMENTED, as Milvus (grpc-go) answers an unknown method.
/// </summary>
internal sealed class FakeMilvusService(FakeMilvusServer server) : Rpc.MilvusService.MilvusServiceBase
{
    public override Task<Rpc.ReplicateMessageResponse> ReplicateMessage(Rpc.ReplicateMessageRequest request, ServerCallContext context) =>
        server.HandleAsync(request, context, s => new Rpc.ReplicateMessageResponse { Status = s });

    public override Task<Status> CreateCollection(Rpc.CreateCollectionRequest request, ServerCallContext context) =>
        server.HandleAsync(request, context, s => s);

    public override Task<Rpc.DescribeCollectionResponse> DescribeCollection(Rpc.DescribeCollectionRequest request, ServerCallContext context) =>
        server.HandleAsync(request, context, s => new Rpc.DescribeCollectionResponse { Status = s });

    public override Task<Rpc.BoolResponse> HasCollection(Rpc.HasCollectionRequest request, ServerCallContext context) =>
        server.HandleAsync(request, context, s => new Rpc.BoolResponse { Status = s });

    public override Task<Status> DropCollection(Rpc.DropCollectionRequest request, ServerCallContext context) =>
        server.HandleAsync(request, context, s => s);

    public override Task<Status> CreatePartition(Rpc.CreatePartitionRequest request, ServerCallContext context) =>
        server.HandleAsync(request, context, s => s);

    public override Task<Rpc.ShowPartitionsResponse> ShowPartitions(Rpc.ShowPartitionsRequest request, ServerCallContext context) =>
        server.HandleAsync(request, context, s => new Rpc.ShowPartitionsResponse { Status = s });

    public override Task<Status> DropPartition(Rpc.DropPartitionRequest request, ServerCallContext context) =>
        server.HandleAsync(request, context, s => s);

    public override Task<Status> CreateIndex(Rpc.CreateIndexRequest request, ServerCallContext context) =>
        server.HandleAsync(request, context, s => s);

    public override Task<Status> DropIndex(Rpc.DropIndexRequest request, ServerCallContext context) =>
        server.HandleAsync(request, context, s => s);

    public override Task<Status> AlterIndex(Rpc.AlterIndexRequest request, ServerCallContext context) =>
        server.HandleAsync(request, context, s => s);

    public override Task<Status> LoadCollection(Rpc.LoadCollectionRequest request, ServerCallContext context) =>
        server.HandleAsync(request, context, s => s);

    public override Task<Status> ReleaseCollection(Rpc.ReleaseCollectionRequest request, ServerCallContext context) =>
        server.HandleAsync(request, context, s => s);

    public override Task<Status> LoadPartitions(Rpc.LoadPartitionsRequest request, ServerCallContext context) =>
        server.HandleAsync(request, context, s => s);

    public override Task<Status> ReleasePartitions(Rpc.ReleasePartitionsRequest request, ServerCallContext context) =>
        server.HandleAsync(request, context, s => s);

    public override Task<Rpc.FlushResponse> Flush(Rpc.FlushRequest request, ServerCallContext context) =>
        server.HandleAsync(request, context, s => new Rpc.FlushResponse { Status = s });

    public override Task<Status> CreateDatabase(Rpc.CreateDatabaseRequest request, ServerCallContext context) =>
        server.HandleAsync(request, context, s => s);

    public override Task<Rpc.ListDatabasesResponse> ListDatabases(Rpc.ListDatabasesRequest request, ServerCallContext context) =>
        server.HandleAsync(request, context, s => new Rpc.ListDatabasesResponse { Status = s });

    public override Task<Status> DropDatabase(Rpc.DropDatabaseRequest request, ServerCallContext context) =>
        server.HandleAsync(request, context, s => s);

    public override Task<Status> AlterDatabase(Rpc.AlterDatabaseRequest request, ServerCallContext context) =>
        server.HandleAsync(request, context, s => s);

    public override Task<Rpc.MutationResult> Upsert(Rpc.UpsertRequest request, ServerCallContext context) =>
        server.HandleAsync(request, context, s => new Rpc.MutationResult { Status = s });

    public override Task<Rpc.MutationResult> Delete(Rpc.DeleteRequest request, ServerCallContext context) =>
        server.HandleAsync(request, context, s => new Rpc.MutationResult { Status = s });

    public override Task<Rpc.QueryResults> Query(Rpc.QueryRequest request, ServerCallContext context) =>
        server.HandleAsync(request, context, s => new Rpc.QueryResults { Status = s });
}
