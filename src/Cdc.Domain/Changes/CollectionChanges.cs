namespace Cdc.Domain.Changes;

/// <summary>A collection creation as broadcast on its DML channels; Schema holds the serialized CollectionSchema.</summary>
public sealed record CreateCollectionChange(
    ChangeOrigin Origin,
    ReadOnlyMemory<byte> Payload,
    string DbName,
    string CollectionName,
    long DbId,
    long CollectionId,
    IReadOnlyList<long> PartitionIds,
    IReadOnlyList<string> VirtualChannels,
    IReadOnlyList<string> PhysicalChannels,
    ReadOnlyMemory<byte> Schema) : SourceChange(Origin, Payload)
{
    public override ChangeKind Kind => ChangeKind.CreateCollection;
}

public sealed record DropCollectionChange(
    ChangeOrigin Origin,
    ReadOnlyMemory<byte> Payload,
    string DbName,
    string CollectionName,
    long DbId,
    long CollectionId) : SourceChange(Origin, Payload)
{
    public override ChangeKind Kind => ChangeKind.DropCollection;
}

public sealed record LoadCollectionChange(
    ChangeOrigin Origin,
    ReadOnlyMemory<byte> Payload,
    string DbName,
    string CollectionName,
    int ReplicaNumber) : SourceChange(Origin, Payload)
{
    public override ChangeKind Kind => ChangeKind.LoadCollection;
}

public sealed record ReleaseCollectionChange(
    ChangeOrigin Origin,
    ReadOnlyMemory<byte> Payload,
    string DbName,
    string CollectionName) : SourceChange(Origin, Payload)
{
    public override ChangeKind Kind => ChangeKind.ReleaseCollection;
}

public sealed record FlushChange(
    ChangeOrigin Origin,
    ReadOnlyMemory<byte> Payload,
    string DbName,
    IReadOnlyList<string> CollectionNames) : SourceChange(Origin, Payload)
{
    public override ChangeKind Kind => ChangeKind.Flush;
}
