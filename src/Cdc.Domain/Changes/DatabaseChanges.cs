namespace Cdc.Domain.Changes;

public sealed record CreateDatabaseChange(
    ChangeOrigin Origin,
    ReadOnlyMemory<byte> Payload,
    string DbName,
    IReadOnlyDictionary<string, string> Properties) : SourceChange(Origin, Payload)
{
    public override ChangeKind Kind => ChangeKind.CreateDatabase;
}

public sealed record DropDatabaseChange(
    ChangeOrigin Origin,
    ReadOnlyMemory<byte> Payload,
    string DbName) : SourceChange(Origin, Payload)
{
    public override ChangeKind Kind => ChangeKind.DropDatabase;
}

public sealed record AlterDatabaseChange(
    ChangeOrigin Origin,
    ReadOnlyMemory<byte> Payload,
    string DbName,
    IReadOnlyDictionary<string, string> Properties,
    IReadOnlyList<string> DeletedKeys) : SourceChange(Origin, Payload)
{
    public override ChangeKind Kind => ChangeKind.AlterDatabase;
}
