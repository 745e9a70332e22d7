using System.Buffers;
using Cdc.Domain.Changes;

namespace Cdc.Application.Replication.Target;

/// <summary>Milvus consistency levels, same numbers as common.ConsistencyLevel.</summary>
public enum TargetConsistencyLevel
{
    Strong = 0,
    Session = 1,
    Bounded = 2,
    Eventually = 3,
    Customized = 4,
}

/// <summary>A collection to create: Schema is a serialized milvus.proto.schema.CollectionSchema.</summary>
public sealed record TargetCollectionDefinition(
    string Name,
    ReadOnlyMemory<byte> Schema,
    int ShardsNum,
    TargetConsistencyLevel ConsistencyLevel,
    IReadOnlyDictionary<string, string> Properties);

/// <summary>What DescribeCollection reports about a target collection. Schema is serialized CollectionSchema.</summary>
public sealed record TargetCollection(
    long CollectionId,
    string Name,
    string DbName,
    int ShardsNum,
    IReadOnlyList<string> VirtualChannels,
    IReadOnlyList<string> PhysicalChannels,
    HybridTimestamp CreatedTimestamp,
    ReadOnlyMemory<byte> Schema);

public sealed record TargetPartition(string Name, long PartitionId);

/// <summary>A place in a channel carried along a replicated pack (msgID still the source MQ id).</summary>
public sealed record TargetPackPosition(string ChannelName, byte[] MsgId, string MsgGroup, HybridTimestamp Timestamp);

/// <summary>
/// One ReplicateMessage call: already-rewritten msgstream payloads for one target physical channel.
/// </summary>
public sealed record TargetReplicatePack(
    string ChannelName,
    HybridTimestamp BeginTs,
    HybridTimestamp EndTs,
    IReadOnlyList<ReadOnlySequence<byte>> Messages,
    IReadOnlyList<TargetPackPosition> StartPositions,
    IReadOnlyList<TargetPackPosition> EndPositions,
    string ReplicateId = "");

/// <summary>An index to create; Parameters are extra_params (index_type, metric_type, params ...).</summary>
public sealed record TargetIndexDefinition(
    string CollectionName,
    string FieldName,
    string IndexName,
    IReadOnlyDictionary<string, string> Parameters);
