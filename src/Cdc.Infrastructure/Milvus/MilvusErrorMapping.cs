using Cdc.Application.Replication.Ports;
using Cdc.Infrastructure.Milvus.Grpc;
using Cdc.Infrastructure.Milvus.Protos.Common;

// Status.error_code is deprecated in the proto but older servers still report failures only there.
#pragma warning disable CS0612

namespace Cdc.Infrastructure.Milvus;

/// <summary>
/// Turns gRPC failures and Milvus error statuses into <see cref="MilvusTargetException"/>, deciding what is worth
/// retrying: UNAVAILABLE, DEADLINE_EXCEEDED and RESOURCE_EXHAUSTED transport failures, and Milvus statuses that
/// say retriable (plus the legacy rate-limit / not-ready codes of servers that predate the flag).
/// </summary>
public static class MilvusErrorMapping
{
    public static bool IsRetryable(GrpcStatusCode status) =>
        status is GrpcStatusCode.Unavailable or GrpcStatusCode.DeadlineExceeded or GrpcStatusCode.ResourceExhausted;

    public static MilvusTargetException FromGrpc(string operation, GrpcCallException failure) =>
        new(operation, (int)failure.Status, null, IsRetryable(failure.Status), $"{failure.Status}: {failure.Detail}", failure);

    public static bool IsSuccess(Status? status) =>
        status is null || (status.Code == 0 && status.ErrorCode == ErrorCode.Success);

    public static MilvusTargetException FromStatus(string operation, Status status)
    {
        var code = status.Code != 0 ? status.Code : (int)status.ErrorCode;
        var retryable = status.Retriable
            || (status.Code == 0 && status.ErrorCode is ErrorCode.RateLimit or ErrorCode.NotReadyServe or ErrorCode.NotReadyCoordActivating);
        var reason = status.Reason.Length > 0 ? status.Reason : status.Detail;
        return new MilvusTargetException(operation, null, code, retryable, reason);
    }

    public static void ThrowIfFailed(string operation, Status? status)
    {
        if (!IsSuccess(status))
        {
            throw FromStatus(operation, status!);
        }
    }
}
