namespace Cdc.Domain.SourceMeta;

/// <summary>A field's data type, same numbers as Milvus' schema.DataType.</summary>
public enum SourceDataType
{
    None = 0,
    Bool = 1,
    Int8 = 2,
    Int16 = 3,
    Int32 = 4,
    Int64 = 5,
    Float = 10,
    Double = 11,
    String = 20,
    VarChar = 21,
    Array = 22,
    Json = 23,
    Geometry = 24,
    BinaryVector = 100,
    FloatVector = 101,
    Float16Vector = 102,
    BFloat16Vector = 103,
    SparseFloatVector = 104,
}
