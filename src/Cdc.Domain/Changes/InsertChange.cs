namespace Cdc.Domain.Changes;

/// <summary>One column of an insert, as named in the message (no schema needed).</summary>
public sealed record InsertColumn(long FieldId, string Name, string DataType, bool IsDynamic);

/// <summary>A batch of rows inserted into one shard (vchannel) of one partition.</summary>
public sealed record InsertChange(
    ChangeOrigin Origin,
    ReadOnlyMemory<byte> Payload,
    string DbName,
    string CollectionName,
    string PartitionName,
    long DbId,
    long CollectionId,
    long PartitionId,
    long SegmentId,
    string ShardName,
    long RowCount,
    HybridTimestamp FirstRowTimestamp,
    HybridTimestamp LastRowTimestamp,
    IReadOnlyList<InsertColumn> Columns) : SourceChange(Origin, Payload)
{
    public override ChangeKind Kind => ChangeKind.Insert;
}
