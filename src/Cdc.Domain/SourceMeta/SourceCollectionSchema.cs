namespace Cdc.Domain.SourceMeta;

/// <summary>
/// A source collection's schema as the target's CreateCollection takes it: <paramref name="Serialized"/> is a
/// serialized milvus.proto.schema.CollectionSchema rebuilt from the source metadata (user fields only, the
/// <c>$meta</c> field folded into <paramref name="EnableDynamicField"/>, functions attached). The other members are
/// facts parsed from it.
/// </summary>
public sealed record SourceCollectionSchema(
    ReadOnlyMemory<byte> Serialized,
    IReadOnlyList<SourceField> Fields,
    IReadOnlyList<SourceFunction> Functions,
    bool EnableDynamicField)
{
    public SourceField? PrimaryKey => Fields.FirstOrDefault(f => f.IsPrimaryKey);

    public SourceField? Field(string name) => Fields.FirstOrDefault(f => f.Name == name);
}
