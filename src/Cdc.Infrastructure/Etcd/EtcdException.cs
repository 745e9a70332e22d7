namespace Cdc.Infrastructure.Etcd;

/// <summary>An error answered by etcd (or its JSON gateway), or an etcd that cannot be reached.</summary>
public sealed class EtcdException(string message, int grpcCode = 0, Exception? innerException = null)
    : Exception(message, innerException)
{
    /// <summary>The gRPC status code etcd reported (0 when unknown).</summary>
    public int GrpcCode { get; } = grpcCode;

    /// <summary>gRPC status 16: the auth token is missing, invalid or expired.</summary>
    public bool IsUnauthenticated => GrpcCode == 16 || Message.Contains("invalid auth token", StringComparison.Ordinal);
}
