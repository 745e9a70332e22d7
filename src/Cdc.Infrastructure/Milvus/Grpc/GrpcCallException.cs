namespace Cdc.Infrastructure.Milvus.Grpc;

/// <summary>A gRPC call ended with a non-OK status (from the server, or derived from a transport failure).</summary>
public sealed class GrpcCallException(string method, GrpcStatusCode status, string detail, Exception? inner = null)
    : Exception($"gRPC {method} failed: {status} ({(int)status}): {detail}", inner)
{
    public string Method { get; } = method;

    public GrpcStatusCode Status { get; } = status;

    public string Detail { get; } = detail;
}
