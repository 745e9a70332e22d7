using Cdc.Infrastructure.Milvus.Protos.Schema;
using Google.Protobuf;
using Google.Protobuf.Collections;

namespace Cdc.Infrastructure.MilvusWire;

/// <summary>
/// Rows of Milvus columns (milvus-proto schema.proto FieldData): how many a column holds, a range of them as a column of
/// its own, and columns of one field put end to end. Every data type of FieldData is handled: the scalar arrays (one
/// element a row; an Array field one ScalarField a row), float vectors (dim floats a row), binary vectors (dim / 8 bytes
/// a row), float16 and bfloat16 vectors (2 x dim bytes a row) and sparse vectors (one contents entry a row). A nullable
/// column (valid_data set, one flag a row) holds its data either for every row or for the valid rows only, as Milvus
/// accepts both; a range keeps the form it was given in.
/// </summary>
public static class FieldDataRows
{
    /// <summary>The rows <paramref name="column"/> holds.</summary>
    /// <exception cref="FormatException">The column's data does not divide into whole rows (a vector without its dim).</exception>
    public static int RowCount(FieldData column)
    {
        ArgumentNullException.ThrowIfNull(column);
        return column.ValidData.Count > 0 ? column.ValidData.Count : DataCount(column);
    }

    /// <summary>Rows <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/> - 1 of a column, as a column.</summary>
    public static FieldData Slice(FieldData column, int start, int count)
    {
        ArgumentNullException.ThrowIfNull(column);
        var rows = RowCount(column);
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (start + count > rows)
            throw new ArgumentOutOfRangeException(nameof(count), $"rows {start} to {start + count - 1} of field '{column.FieldName}', which holds {rows}");

        var (from, to) = DataRange(column, start, start + count);
        var slice = Header(column);
        if (column.ValidData.Count > 0) slice.ValidData.AddRange(column.ValidData.Skip(start).Take(count));
        CopyData(column, slice, from, to);
        return slice;
    }

    /// <summary>Columns of one field, rows of the first first.</summary>
    public static FieldData Concat(IReadOnlyList<FieldData> columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        if (columns.Count == 0) throw new ArgumentException("no column to put together", nameof(columns));
        var first = columns[0];
        var nullable = columns.Any(c => c.ValidData.Count > 0);
        // Nullable parts given in different forms become the valid rows' data only.
        var compact = nullable && columns.Any(IsCompact);
        var result = Header(first);
        foreach (var column in columns)
        {
            if (column.Type != first.Type || column.FieldName != first.FieldName)
                throw new ArgumentException($"field '{column.FieldName}' ({column.Type}) cannot follow field '{first.FieldName}' ({first.Type})", nameof(columns));
            var rows = RowCount(column);
            if (nullable)
                result.ValidData.AddRange(column.ValidData.Count > 0 ? column.ValidData : Enumerable.Repeat(true, rows));
            if (compact && !IsCompact(column) && column.ValidData.Count > 0)
            {
                // Only the valid rows' data, one row at a time.
                for (var row = 0; row < rows; row++)
                    if (column.ValidData[row]) CopyData(column, result, row, row + 1);
            }
            else
            {
                CopyData(column, result, 0, DataCount(column));
            }
        }

        return result;
    }

    private static bool IsCompact(FieldData column) => column.ValidData.Count > 0 && DataCount(column) != column.ValidData.Count;

    /// <summary>The data elements (rows of data) that rows [start, end) use.</summary>
    private static (int From, int To) DataRange(FieldData column, int start, int end)
    {
        if (!IsCompact(column)) return (start, end);
        var before = column.ValidData.Take(start).Count(v => v);
        return (before, before + column.ValidData.Skip(start).Take(end - start).Count(v => v));
    }

    /// <summary>The field's identity without its data.</summary>
    private static FieldData Header(FieldData column) => new()
    {
        Type = column.Type,
        FieldName = column.FieldName,
        FieldId = column.FieldId,
        IsDynamic = column.IsDynamic,
    };

    /// <summary>Rows of data (not of the column: a nullable column may hold data for its valid rows only).</summary>
    private static int DataCount(FieldData column) => column.FieldCase switch
    {
        FieldData.FieldOneofCase.Scalars => column.Scalars.DataCase switch
        {
            ScalarField.DataOneofCase.BoolData => column.Scalars.BoolData.Data.Count,
            ScalarField.DataOneofCase.IntData => column.Scalars.IntData.Data.Count,
            ScalarField.DataOneofCase.LongData => column.Scalars.LongData.Data.Count,
            ScalarField.DataOneofCase.FloatData => column.Scalars.FloatData.Data.Count,
            ScalarField.DataOneofCase.DoubleData => column.Scalars.DoubleData.Data.Count,
            ScalarField.DataOneofCase.StringData => column.Scalars.StringData.Data.Count,
            ScalarField.DataOneofCase.BytesData => column.Scalars.BytesData.Data.Count,
            ScalarField.DataOneofCase.ArrayData => column.Scalars.ArrayData.Data.Count,
            ScalarField.DataOneofCase.JsonData => column.Scalars.JsonData.Data.Count,
            ScalarField.DataOneofCase.GeometryData => column.Scalars.GeometryData.Data.Count,
            ScalarField.DataOneofCase.GeometryWktData => column.Scalars.GeometryWktData.Data.Count,
            _ => 0,
        },
        FieldData.FieldOneofCase.Vectors => column.Vectors.DataCase switch
        {
            VectorField.DataOneofCase.FloatVector => Whole(column, column.Vectors.FloatVector.Data.Count, VectorWidth(column)),
            VectorField.DataOneofCase.BinaryVector => Whole(column, column.Vectors.BinaryVector.Length, VectorWidth(column)),
            VectorField.DataOneofCase.Float16Vector => Whole(column, column.Vectors.Float16Vector.Length, VectorWidth(column)),
            VectorField.DataOneofCase.Bfloat16Vector => Whole(column, column.Vectors.Bfloat16Vector.Length, VectorWidth(column)),
            VectorField.DataOneofCase.SparseFloatVector => column.Vectors.SparseFloatVector.Contents.Count,
            _ => 0,
        },
        _ => 0,
    };

    /// <summary>Elements a vector row takes: dim floats, dim / 8 bytes (binary) or 2 x dim bytes (float16, bfloat16).</summary>
    private static int VectorWidth(FieldData column)
    {
        var dim = column.Vectors.Dim;
        if (dim <= 0 || dim > int.MaxValue / 2) throw new FormatException($"vector field '{column.FieldName}' has no dim");
        return column.Vectors.DataCase switch
        {
            VectorField.DataOneofCase.BinaryVector when dim % 8 == 0 => (int)dim / 8,
            VectorField.DataOneofCase.BinaryVector => throw new FormatException($"binary vector field '{column.FieldName}' has dim {dim}, not a multiple of 8"),
            VectorField.DataOneofCase.Float16Vector or VectorField.DataOneofCase.Bfloat16Vector => (int)dim * 2,
            _ => (int)dim,
        };
    }

    private static int Whole(FieldData column, int elements, int width) =>
        elements % width == 0 ? elements / width
        : throw new FormatException($"vector field '{column.FieldName}' holds {elements} elements, not a whole number of rows of {width}");

    /// <summary>Appends data rows [from, to) of <paramref name="source"/> to <paramref name="target"/>'s data.</summary>
    private static void CopyData(FieldData source, FieldData target, int from, int to)
    {
        switch (source.FieldCase)
        {
            case FieldData.FieldOneofCase.Scalars:
                target.Scalars ??= new ScalarField();
                CopyScalars(source.Scalars, target.Scalars, from, to);
                break;
            case FieldData.FieldOneofCase.Vectors:
                target.Vectors ??= new VectorField { Dim = source.Vectors.Dim };
                CopyVectors(source, target.Vectors, from, to);
                break;
        }
    }

    private static void CopyScalars(ScalarField source, ScalarField target, int from, int to)
    {
        switch (source.DataCase)
        {
            case ScalarField.DataOneofCase.BoolData:
                Append(source.BoolData.Data, (target.BoolData ??= new BoolArray()).Data, from, to);
                break;
            case ScalarField.DataOneofCase.IntData:
                Append(source.IntData.Data, (target.IntData ??= new IntArray()).Data, from, to);
                break;
            case ScalarField.DataOneofCase.LongData:
                Append(source.LongData.Data, (target.LongData ??= new LongArray()).Data, from, to);
                break;
            case ScalarField.DataOneofCase.FloatData:
                Append(source.FloatData.Data, (target.FloatData ??= new FloatArray()).Data, from, to);
                break;
            case ScalarField.DataOneofCase.DoubleData:
                Append(source.DoubleData.Data, (target.DoubleData ??= new DoubleArray()).Data, from, to);
                break;
            case ScalarField.DataOneofCase.StringData:
                Append(source.StringData.Data, (target.StringData ??= new StringArray()).Data, from, to);
                break;
            case ScalarField.DataOneofCase.BytesData:
                Append(source.BytesData.Data, (target.BytesData ??= new BytesArray()).Data, from, to);
                break;
            case ScalarField.DataOneofCase.ArrayData:
                target.ArrayData ??= new ArrayArray { ElementType = source.ArrayData.ElementType };
                Append(source.ArrayData.Data, target.ArrayData.Data, from, to);
                break;
            case ScalarField.DataOneofCase.JsonData:
                Append(source.JsonData.Data, (target.JsonData ??= new JSONArray()).Data, from, to);
                break;
            case ScalarField.DataOneofCase.GeometryData:
                Append(source.GeometryData.Data, (target.GeometryData ??= new GeometryArray()).Data, from, to);
                break;
            case ScalarField.DataOneofCase.GeometryWktData:
                Append(source.GeometryWktData.Data, (target.GeometryWktData ??= new GeometryWktArray()).Data, from, to);
                break;
        }
    }

    private static void CopyVectors(FieldData source, VectorField target, int from, int to)
    {
        var vectors = source.Vectors;
        switch (vectors.DataCase)
        {
            case VectorField.DataOneofCase.FloatVector:
                var width = VectorWidth(source);
                Append(vectors.FloatVector.Data, (target.FloatVector ??= new FloatArray()).Data, from * width, to * width);
                break;
            case VectorField.DataOneofCase.BinaryVector:
                target.BinaryVector = Join(target.BinaryVector, vectors.BinaryVector, VectorWidth(source), from, to);
                break;
            case VectorField.DataOneofCase.Float16Vector:
                target.Float16Vector = Join(target.Float16Vector, vectors.Float16Vector, VectorWidth(source), from, to);
                break;
            case VectorField.DataOneofCase.Bfloat16Vector:
                target.Bfloat16Vector = Join(target.Bfloat16Vector, vectors.Bfloat16Vector, VectorWidth(source), from, to);
                break;
            case VectorField.DataOneofCase.SparseFloatVector:
                target.SparseFloatVector ??= new SparseFloatArray();
                Append(vectors.SparseFloatVector.Contents, target.SparseFloatVector.Contents, from, to);
                // dim of a sparse column: one more than the largest index of its rows; the larger of the parts.
                target.SparseFloatVector.Dim = Math.Max(target.SparseFloatVector.Dim, vectors.SparseFloatVector.Dim);
                target.Dim = Math.Max(target.Dim, vectors.Dim);
                break;
        }
    }

    private static void Append<T>(RepeatedField<T> source, RepeatedField<T> target, int from, int to)
    {
        for (var i = from; i < to; i++) target.Add(source[i]);
    }

    private static ByteString Join(ByteString before, ByteString source, int width, int from, int to)
    {
        var rows = source.Span.Slice(from * width, (to - from) * width);
        if (before.IsEmpty) return ByteString.CopyFrom(rows);
        var joined = new byte[before.Length + rows.Length];
        before.Span.CopyTo(joined);
        rows.CopyTo(joined.AsSpan(before.Length));
        return ByteString.CopyFrom(joined);
    }
}
