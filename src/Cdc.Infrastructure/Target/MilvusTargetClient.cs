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
/// The target Milvus over its MilvusService gRPC API (Grpc.Net.Client, one channel per target). Requests leave db_name
/// empty and pass the database as "dbname" metadata; for a task in apply mode "replicate", DDL and op requests mark
/// themselves as replicated (base.replicateInfo) with the source timestamp, as the reference CDC does, and in apply
/// mode "upsert" they go as any client's, replicateInfo unset. "authorization" is base64(token). Every call has the connect
/// timeout as its deadline and is made once: a failure is a <see cref="MilvusTargetException"/> that says whether it is
/// retryable, and the task's run retries it (one retry policy, which also shows the failure at once).
/// </summary>
public sealed partial class MilvusTargetClient : IMilvusTarget
{
    private readonly GrpcChannel _channel;
    private readonly Rpc.MilvusService.MilvusServiceClient _client;
    private readonly CallInvoker _invoker;
    private readonly TimeSpan _deadline;
    private readonly string? _authorization;
    private readonly bool _marksReplicated;

    /// <summary>
    /// Requests of at least <see cref="LargeRequestBytes"/> (a pack of Inserts, an Upsert's columns) being sent at once
    /// on this connection. Grpc.Net.Client copies each request's whole encoding into a buffer of its own before the
    /// first byte goes out and keeps it until the last is sent; with 16 channels each sending a 3 MB Insert that was
    /// 64 MB of buffers at once, sharing one HTTP/2 connection that carries one byte at a time anyway.
    /// </summary>
    private readonly SemaphoreSlim _largeSends = new(LargeSendsAtOnce);

    public const int LargeRequestBytes = 1024 * 1024;

    public const int LargeSendsAtOnce = 4;

    /// <param name="connection">The target.</param>
    /// <param name="certificates">Where dial_config's files are read; null refuses every file.</param>
    public MilvusTargetClient(MilvusConnection connection, ICertificateFiles? certificates = null)
    {
        _channel = MilvusGrpcChannel.Create(connection, certificates);
        _invoker = _channel.CreateCallInvoker();
        _client = new Rpc.MilvusService.MilvusServiceClient(_invoker);
        _deadline = connection.EffectiveTimeout;
        _authorization = connection.Token.Length > 0 ? Convert.ToBase64String(Encoding.UTF8.GetBytes(connection.Token)) : null;
        _marksReplicated = connection.ApplyMode == ApplyMode.Replicate;
    }

    public async Task<string> ReplicateMessageAsync(TargetReplicatePack pack, CancellationToken cancellationToken)
    {
        // The messages go to the call as they are (see EncodedReplicateMessageRequest), not copied into ByteStrings.
        var fields = new Rpc.ReplicateMessageRequest
        {
            Base = new MsgBase { ReplicateInfo = new ReplicateInfo { IsReplicate = true, ReplicateID = pack.ReplicateId } },
            ChannelName = pack.ChannelName,
            BeginTs = pack.BeginTs.Value,
            EndTs = pack.EndTs.Value,
            StartPositions = { pack.StartPositions.Select(ToPosition) },
            EndPositions = { pack.EndPositions.Select(ToPosition) },
        };
        var request = new EncodedReplicateMessageRequest(fields, pack.Messages);
        var response = await SendAsync(request, () => InvokeAsync(
            "ReplicateMessage", o => _invoker.AsyncUnaryCall(EncodedReplicateMessageRequest.Method, null, o, request), null, r => r.Status, cancellationToken),
            cancellationToken);
        return response.Position;
    }

    public async Task<long> UpsertAsync(string database, TargetUpsert upsert, CancellationToken cancellationToken)
    {
        // The columns go to the call as they are (see EncodedUpsertRequest): slices of the source Insert, not copied.
        var fields = new Rpc.UpsertRequest
        {
            Base = new MsgBase(),
            CollectionName = upsert.CollectionName,
            PartitionName = upsert.PartitionName,
            NumRows = checked((uint)upsert.RowCount),
        };
        var request = new EncodedUpsertRequest(fields, [.. upsert.Columns.Select(c => new ReadOnlySequence<byte>(c))]);
        var result = await SendAsync(request, () => InvokeAsync(
            "Upsert", o => _invoker.AsyncUnaryCall(EncodedUpsertRequest.Method, null, o, request), database, r => r.Status, cancellationToken),
            cancellationToken);
        return result.UpsertCnt;
    }

    public async Task<long> DeleteAsync(string database, TargetDelete delete, CancellationToken cancellationToken)
    {
        var request = new Rpc.DeleteRequest
        {
            Base = new MsgBase(),
            CollectionName = delete.CollectionName,
            PartitionName = delete.PartitionName,
            Expr = delete.Expression,
        };
        var result = await InvokeAsync("Delete", _client.DeleteAsync, request, database, r => r.Status, cancellationToken);
        return result.DeleteCnt;
    }

    /// <summary>A large request waits for one of the <see cref="LargeSendsAtOnce"/> turns; a small one goes at once.</summary>
    private async Task<TResponse> SendAsync<TResponse>(EncodedRequest request, Func<Task<TResponse>> send, CancellationToken cancellationToken)
    {
        if (request.Length < LargeRequestBytes) return await send();
        await _largeSends.WaitAsync(cancellationToken);
        try
        {
            return await send();
        }
        finally
        {
            _largeSends.Release();
        }
    }

    public ValueTask DisposeAsync()
    {
        _channel.Dispose();
        return ValueTask.CompletedTask;
    }

    private Task InvokeStatusAsync<TRequest>(
        string operation, Func<TRequest, CallOptions, AsyncUnaryCall<Status>> call, TRequest request, string? database, CancellationToken cancellationToken) =>
        InvokeAsync(operation, call, request, database, s => s, cancellationToken);

    private Task<TResponse> InvokeAsync<TRequest, TResponse>(
        string operation,
        Func<TRequest, CallOptions, AsyncUnaryCall<TResponse>> call,
        TRequest request,
        string? database,
        Func<TResponse, Status?> statusOf,
        CancellationToken cancellationToken) =>
        InvokeAsync(operation, options => call(request, options), database, statusOf, cancellationToken);

    /// <summary>
    /// One call: a gRPC failure or a Milvus error status becomes a <see cref="MilvusTargetException"/>, retryable as
    /// <see cref="MilvusErrorMapping"/> says; the caller's cancellation stays an <see cref="OperationCanceledException"/>.
    /// </summary>
    private async Task<TResponse> InvokeAsync<TResponse>(
        string operation,
        Func<CallOptions, AsyncUnaryCall<TResponse>> call,
        string? database,
        Func<TResponse, Status?> statusOf,
        CancellationToken cancellationToken)
    {
        // Grpc.Net.Client measures a deadline against the system clock (its own, not replaceable), so the deadline is
        // taken from that clock. One attempt: the task's run retries what is retryable, and shows each failure.
        var options = new CallOptions(Metadata(database), TimeProvider.System.GetUtcNow().UtcDateTime + _deadline, cancellationToken);
        TResponse response;
        try
        {
            using var pending = call(options);
            response = await pending.ResponseAsync;
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException($"Milvus {operation} was cancelled", ex, cancellationToken);
        }
        catch (RpcException ex)
        {
            throw MilvusErrorMapping.FromGrpc(operation, ex);
        }

        MilvusErrorMapping.ThrowIfFailed(operation, statusOf(response));
        return response;
    }

    private Metadata Metadata(string? database)
    {
        var metadata = new Metadata();
        if (_authorization is not null)
        {
            metadata.Add("authorization", _authorization);
        }

        if (!string.IsNullOrEmpty(database))
        {
            metadata.Add("dbname", database);
        }

        return metadata;
    }

    /// <summary>The base of a DDL or op request: marked as replicated with the source timestamp, unless in apply mode "upsert".</summary>
    private MsgBase Replicated(HybridTimestamp sourceTimestamp) => _marksReplicated
        ? new() { ReplicateInfo = new ReplicateInfo { IsReplicate = true, MsgTimestamp = sourceTimestamp.Value } }
        : new();

    private static MsgPosition ToPosition(TargetPackPosition position) => new()
    {
        ChannelName = position.ChannelName,
        MsgID = ByteString.CopyFrom(position.MsgId),
        MsgGroup = position.MsgGroup,
        Timestamp = position.Timestamp.Value,
    };
}
