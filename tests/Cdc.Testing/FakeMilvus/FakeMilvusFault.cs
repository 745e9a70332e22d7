using Grpc.Core;

namespace Cdc.Testing.FakeMilvus;

/// <summary>
/// A failure to inject into the next matching calls: either a gRPC status (transport level) or a Milvus
/// common.Status error in the response body.
/// </summary>
internal sealed class FakeMilvusFault(int remaining, string? method, StatusCode? grpcStatus, int milvusCode, string reason, bool retriable)
{
    public int Remaining { get; set; } = remaining;

    public string? Method { get; } = method;

    public StatusCode? GrpcStatus { get; } = grpcStatus;

    public int MilvusCode { get; } = milvusCode;

    public string Reason { get; } = reason;

    public bool Retriable { get; } = retriable;

    public bool Matches(string method) => Remaining > 0 && (Method is null || Method == method);
}
