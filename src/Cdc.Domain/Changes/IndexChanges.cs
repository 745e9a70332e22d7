namespace Cdc.Domain.Changes;

/// <summary>An index creation; Parameters are Milvus' extra_params (index_type, metric_type, params, ...).</summary>
public sealed record CreateIndexChange(
    ChangeOrigin Origin,
    ReadOnlyMemory<byte> Payload,
    string DbName,
    string CollectionName,
    string FieldName,
    string IndexName,
    IReadOnlyDictionary<string, string> Parameters) : SourceChange(Origin, Payload)
{
    public override ChangeKind Kind => ChangeKind.CreateIndex;
}

public sealed record DropIndexChange(
    ChangeOrigin Origin,
    ReadOnlyMemory<byte> Payload,
    string DbName,
    string CollectionName,
    string FieldName,
    string IndexName) : SourceChange(Origin, Payload)
{
    public override ChangeKind Kind => ChangeKind.DropIndex;
}

public sealed record AlterIndexChange(
    ChangeOrigin Origin,
    ReadOnlyMemory<byte> Payload,
    string DbName,
    string CollectionName,
    string IndexName,
    IReadOnlyDictionary<string, string> Parameters,
    IReadOnlyList<string> DeletedKeys) : SourceChange(Origin, Payload)
{
    public override ChangeKind Kind => ChangeKind.AlterIndex;
}
