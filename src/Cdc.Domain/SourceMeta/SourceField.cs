namespace Cdc.Domain.SourceMeta;

/// <summary>A user field of a source collection's schema (the parsed facts; the schema bytes hold everything).</summary>
public sealed record SourceField(
    long Id,
    string Name,
    SourceDataType DataType,
    bool IsPrimaryKey,
    bool AutoId,
    bool IsPartitionKey,
    bool Nullable,
    SourceDataType ElementType,
    IReadOnlyDictionary<string, string> TypeParameters)
{
    /// <summary>The vector dimension (type parameter <c>dim</c>), or null when the field has none.</summary>
    public int? Dimension =>
        TypeParameters.TryGetValue("dim", out var dim) && int.TryParse(dim, System.Globalization.CultureInfo.InvariantCulture, out var value)
            ? value
            : null;

    public bool IsVector => DataType is SourceDataType.BinaryVector or SourceDataType.FloatVector
        or SourceDataType.Float16Vector or SourceDataType.BFloat16Vector or SourceDataType.SparseFloatVector;
}
