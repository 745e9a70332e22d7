namespace Cdc.Application.Replication.Target;

/// <summary>
/// A call to the target Milvus failed. Either the transport failed (<see cref="GrpcStatus"/> is the gRPC status
/// code, 14 = UNAVAILABLE ...) or Milvus answered with an error status (<see cref="MilvusCode"/>, e.g. 100
/// collection not found, 800 database not found, 1900 replicate denied). The message never carries credentials.
/// </summary>
public sealed class MilvusTargetException : Exception
{
    /// <summary>merr's ErrServiceRateLimit (milvus-io/milvus pkg/util/merr/errors.go): the target asks to slow down.</summary>
    public const int RateLimitCode = 8;
    public const int CollectionNotFoundCode = 100;
    public const int PartitionNotFoundCode = 200;
    public const int IndexNotFoundCode = 700;
    public const int DatabaseNotFoundCode = 800;
    public const int ReplicateDeniedCode = 1900;
    public const int InvalidReplicateMessageCode = 1901;

    public MilvusTargetException(string operation, int? grpcStatus, int? milvusCode, bool isRetryable, string reason, Exception? inner = null)
        : base(Describe(operation, grpcStatus, milvusCode, reason), inner)
    {
        Operation = operation;
        GrpcStatus = grpcStatus;
        MilvusCode = milvusCode;
        IsRetryable = isRetryable;
        Reason = reason;
    }

    /// <summary>The RPC, e.g. "CreateCollection".</summary>
    public string Operation { get; }

    public int? GrpcStatus { get; }

    public int? MilvusCode { get; }

    public bool IsRetryable { get; }

    public string Reason { get; }

    public bool IsCollectionNotFound => MilvusCode == CollectionNotFoundCode;

    public bool IsDatabaseNotFound => MilvusCode == DatabaseNotFoundCode;

    private static string Describe(string operation, int? grpcStatus, int? milvusCode, string reason) =>
        milvusCode is { } code
            ? $"Milvus {operation} failed with code {code}: {reason}"
            : $"Milvus {operation} failed with gRPC status {grpcStatus}: {reason}";
}
