namespace Cdc.Domain.Changes;

/// <summary>Rows deleted by primary key from one shard (vchannel); PartitionName is empty for "all partitions".</summary>
public sealed record DeleteChange(
    ChangeOrigin Origin,
    ReadOnlyMemory<byte> Payload,
    string DbName,
    string CollectionName,
    string PartitionName,
    long DbId,
    long CollectionId,
    long PartitionId,
    string ShardName,
    long RowCount,
    PrimaryKeys PrimaryKeys) : SourceChange(Origin, Payload)
{
    public override ChangeKind Kind => ChangeKind.Delete;
}
