namespace Cdc.Domain.Changes;

/// <summary>A bulk import job announced on the DML channel (Milvus 2.5).</summary>
public sealed record ImportChange(
    ChangeOrigin Origin,
    ReadOnlyMemory<byte> Payload,
    string DbName,
    string CollectionName,
    long CollectionId,
    IReadOnlyList<long> PartitionIds,
    long JobId) : SourceChange(Origin, Payload)
{
    public override ChangeKind Kind => ChangeKind.Import;
}
