namespace Cdc.Domain.Changes;

public sealed record CreatePartitionChange(
    ChangeOrigin Origin,
    ReadOnlyMemory<byte> Payload,
    string DbName,
    string CollectionName,
    string PartitionName,
    long DbId,
    long CollectionId,
    long PartitionId) : SourceChange(Origin, Payload)
{
    public override ChangeKind Kind => ChangeKind.CreatePartition;
}

public sealed record DropPartitionChange(
    ChangeOrigin Origin,
    ReadOnlyMemory<byte> Payload,
    string DbName,
    string CollectionName,
    string PartitionName,
    long DbId,
    long CollectionId,
    long PartitionId) : SourceChange(Origin, Payload)
{
    public override ChangeKind Kind => ChangeKind.DropPartition;
}

public sealed record LoadPartitionsChange(
    ChangeOrigin Origin,
    ReadOnlyMemory<byte> Payload,
    string DbName,
    string CollectionName,
    IReadOnlyList<string> PartitionNames,
    int ReplicaNumber) : SourceChange(Origin, Payload)
{
    public override ChangeKind Kind => ChangeKind.LoadPartitions;
}

public sealed record ReleasePartitionsChange(
    ChangeOrigin Origin,
    ReadOnlyMemory<byte> Payload,
    string DbName,
    string CollectionName,
    IReadOnlyList<string> PartitionNames) : SourceChange(Origin, Payload)
{
    public override ChangeKind Kind => ChangeKind.ReleasePartitions;
}
