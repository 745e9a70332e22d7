using Cdc.Domain.Changes;

namespace Cdc.Domain.SourceMeta;

/// <summary>A collection of the source Milvus, as its metadata store holds it.</summary>
/// <param name="DbName">The name of database <paramref name="DbId"/>; empty when the store does not know it.</param>
/// <param name="VirtualChannels">One per shard, e.g. <c>by-dev-rootcoord-dml_3_445993766148522019v0</c>.</param>
/// <param name="PhysicalChannels">The DML channels (MQ topics) the shards live on, in shard order.</param>
/// <param name="StartPositions">Physical channel → MQ message id of the collection's start (Kafka: 8-byte LE offset).</param>
public sealed record SourceCollection(
    long Id,
    long DbId,
    string DbName,
    string Name,
    string Description,
    SourceCollectionSchema Schema,
    int ShardsNum,
    IReadOnlyList<string> VirtualChannels,
    IReadOnlyList<string> PhysicalChannels,
    IReadOnlyDictionary<string, ReadOnlyMemory<byte>> StartPositions,
    SourceConsistencyLevel ConsistencyLevel,
    IReadOnlyDictionary<string, string> Properties,
    HybridTimestamp CreatedTimestamp,
    SourceCollectionState State)
{
    public bool IsCreated => State == SourceCollectionState.Created;
}
