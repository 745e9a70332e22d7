namespace Cdc.Testing.FakeMilvus;

/// <summary>Raised inside the fake's handlers: becomes a common.Status error in the response, as Milvus does.</summary>
internal sealed class FakeMilvusError(int code, string reason, bool retriable = false) : Exception(reason)
{
    public const int CollectionNotFound = 100;
    public const int PartitionNotFound = 200;
    public const int IndexNotFound = 700;
    public const int DatabaseNotFound = 800;
    public const int ParameterInvalid = 1100;
    public const int DenyProduce = 1303;
    public const int ReplicateDenied = 1900;
    public const int InvalidMsgBytes = 1901;
    public const int Unexpected = 65535;

    public int Code { get; } = code;

    public string Reason { get; } = reason;

    public bool Retriable { get; } = retriable;

    public static FakeMilvusError CollectionMissing(string name) => new(CollectionNotFound, $"collection not found[collection={name}]");

    public static FakeMilvusError DatabaseMissing(string name) => new(DatabaseNotFound, $"database not found[database={name}]");
}
