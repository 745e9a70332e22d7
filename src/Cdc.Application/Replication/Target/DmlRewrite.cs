using Cdc.Domain.Changes;

namespace Cdc.Application.Replication.Target;

/// <summary>
/// What the writer changes in a DML message before forwarding it to the target (zilliztech/milvus-cdc core/reader/replicate_channel_manager.go, handlePack): target ids,
/// target vchannel, optionally mapped names, and optionally a new timestamp for the message and all its rows.
/// Null members are left as they are.
/// </summary>
public sealed record DmlRewrite(
    long TargetCollectionId,
    string TargetShardName,
    long? TargetPartitionId = null,
    string? DbName = null,
    string? CollectionName = null,
    HybridTimestamp? Timestamp = null);
