using Grpc.Core;

namespace Cdc.Infrastructure.Source.Etcd;

/// <summary>
/// An error answered by etcd, or an etcd that cannot be reached. The message names the endpoint (never credentials).
/// </summary>
public sealed class EtcdException(string message, StatusCode status = StatusCode.Unknown, Exception? innerException = null)
    : Exception(message, innerException)
{
    /// <summary>The gRPC status etcd answered with (<see cref="StatusCode.Unavailable"/> when no endpoint answered).</summary>
    public StatusCode Status { get; } = status;

    /// <summary>The auth token is missing, invalid or expired (etcd's rpctypes.ErrGRPCInvalidAuthToken and kin).</summary>
    public bool IsUnauthenticated => Status == StatusCode.Unauthenticated;
}
