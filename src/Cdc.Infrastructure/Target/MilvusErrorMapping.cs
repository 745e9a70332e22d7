using Cdc.Application.Replication.Target;
using Cdc.Infrastructure.Milvus.Protos.Common;
using Grpc.Core;
using Status = Cdc.Infrastructure.Milvus.Protos.Common.Status;

// Status.error_code is deprecated in the proto but older servers still report failures only there.
#pragma warning disable CS0612

namespace Cdc.Infrastructure.Target;

/// <summary>
/// Turns gRPC failures and Milvus error statuses into <see cref="MilvusTargetException"/>, deciding what is worth
/// retrying: UNAVAILABLE, DEADLINE_EXCEEDED and RESOURCE_EXHAUSTED transport failures, and Milvus statuses that
/// say retriable (plus the legacy rate-limit / not-ready codes of servers that predate the flag).
/// </summary>
public static class MilvusErrorMapping
{
    public static bool IsRetryable(StatusCode status) =>
        status is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.ResourceExhausted;

    /// <summary>A call that ended without a response: a gRPC status from the target, or one Grpc.Net.Client derived.</summary>
    public static MilvusTargetException FromGrpc(string operation, RpcException failure)
    {
        var status = StatusOf(failure);
        return new(operation, (int)status, null, IsRetryable(status), $"{status}: {failure.Status.Detail}", failure);
    }

    /// <summary>
    /// The call's status, except that a request that got no HTTP response at all (the connection or the TLS handshake
    /// failed) is UNAVAILABLE, as grpc-go reports a failed connection or handshake, where Grpc.Net.Client says INTERNAL
    /// for what is not a socket or I/O error (a certificate that is refused).
    /// </summary>
    private static StatusCode StatusOf(RpcException failure) =>
        failure.StatusCode == StatusCode.Internal && failure.Status.DebugException is HttpRequestException { StatusCode: null }
            ? StatusCode.Unavailable
            : failure.StatusCode;

    public static bool IsSuccess(Status? status) =>
        status is null || (status.Code == 0 && status.ErrorCode == ErrorCode.Success);

    public static MilvusTargetException FromStatus(string operation, Status status)
    {
        var code = status.Code != 0 ? status.Code : (int)status.ErrorCode;
        // A rate limit is worth waiting out however it is reported: merr's ErrServiceRateLimit (code 8, retriable, in
        // milvus-io/milvus pkg/util/merr/errors.go) or the legacy ErrorCode RateLimit (common.proto) next to it or alone.
        var retryable = status.Retriable
            || code == MilvusTargetException.RateLimitCode
            || status.ErrorCode == ErrorCode.RateLimit
            || (status.Code == 0 && status.ErrorCode is ErrorCode.NotReadyServe or ErrorCode.NotReadyCoordActivating);
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
