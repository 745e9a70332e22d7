using Cdc.Infrastructure.Milvus.Protos.Schema;
using Cdc.Infrastructure.MilvusWire;
using Google.Protobuf;

namespace Cdc.Infrastructure.Tests.MilvusWire;

/// <summary>Rows of Milvus columns cut out and put back together, for every kind of column data.</summary>
public sealed class FieldDataRowsTests
{
    private static FieldData Scalars(DataType type, Action<ScalarField> fill)
    {
        var scalars = new ScalarField();
        fill(scalars);
        return new FieldData { Type = type, FieldName = type.ToString(), FieldId = 101, Scalars = scalars };
    }

    private static FieldData Vectors(DataType type, long dim, Action<VectorField> fill)
    {
        var vectors = new VectorField { Dim = dim };
        fill(vectors);
        return new FieldData { Type = type, FieldName = type.ToString(), FieldId = 102, Vectors = vectors };
    }

    /// <summary>Four rows of each kind of column.</summary>
    public static TheoryData<FieldData> Columns() =>
    [
        Scalars(DataType.Bool, s => s.BoolData = new BoolArray { Data = { true, false, true, true } }),
        Scalars(DataType.Int16, s => s.IntData = new IntArray { Data = { 1, 2, 3, 4 } }),
        Scalars(DataType.Int64, s => s.LongData = new LongArray { Data = { 10, 20, 30, 40 } }),
        Scalars(DataType.Float, s => s.FloatData = new FloatArray { Data = { 1.5f, 2.5f, 3.5f, 4.5f } }),
        Scalars(DataType.Double, s => s.DoubleData = new DoubleArray { Data = { 1.25, 2.25, 3.25, 4.25 } }),
        Scalars(DataType.VarChar, s => s.StringData = new StringArray { Data = { "a", "bb", "", "dddd" } }),
        Scalars(DataType.Json, s => s.JsonData = new JSONArray { Data = { ByteString.CopyFromUtf8("{}"), ByteString.CopyFromUtf8("{\"a\":1}"), ByteString.CopyFromUtf8("[]"), ByteString.CopyFromUtf8("2") } }),
        Scalars(DataType.Array, s => s.ArrayData = new ArrayArray
        {
            ElementType = DataType.Int64,
            Data = { new ScalarField { LongData = new LongArray { Data = { 1 } } }, new ScalarField { LongData = new LongArray() }, new ScalarField { LongData = new LongArray { Data = { 2, 3 } } }, new ScalarField { LongData = new LongArray { Data = { 4 } } } },
        }),
        Vectors(DataType.FloatVector, 3, v => v.FloatVector = new FloatArray { Data = { Enumerable.Range(0, 12).Select(i => i * 0.5f) } }),
        Vectors(DataType.BinaryVector, 16, v => v.BinaryVector = ByteString.CopyFrom([.. Enumerable.Range(0, 8).Select(i => (byte)i)])),
        Vectors(DataType.Float16Vector, 2, v => v.Float16Vector = ByteString.CopyFrom([.. Enumerable.Range(0, 16).Select(i => (byte)(i * 3))])),
        Vectors(DataType.Bfloat16Vector, 2, v => v.Bfloat16Vector = ByteString.CopyFrom([.. Enumerable.Range(0, 16).Select(i => (byte)(i * 5))])),
        Vectors(DataType.SparseFloatVector, 9, v => v.SparseFloatVector = new SparseFloatArray
        {
            Dim = 9,
            Contents = { ByteString.CopyFrom(1, 0, 0, 0, 0, 0, 128, 63), ByteString.Empty, ByteString.CopyFrom(8, 0, 0, 0, 0, 0, 0, 64), ByteString.CopyFrom(2, 0, 0, 0, 0, 0, 64, 64) },
        }),
    ];

    [Theory]
    [MemberData(nameof(Columns))]
    public void Every_row_cut_out_and_put_back_together_gives_the_column_again(FieldData column)
    {
        Assert.Equal(4, FieldDataRows.RowCount(column));
        var rows = Enumerable.Range(0, 4).Select(i => FieldDataRows.Slice(column, i, 1)).ToList();
        Assert.All(rows, r => Assert.Equal(1, FieldDataRows.RowCount(r)));

        var whole = FieldDataRows.Concat(rows);

        Assert.Equal(column, whole);
        Assert.Equal(column, FieldDataRows.Concat([FieldDataRows.Slice(column, 0, 3), FieldDataRows.Slice(column, 3, 1)]));
    }

    [Fact]
    public void A_range_of_rows_holds_those_rows_only()
    {
        var vectors = Vectors(DataType.FloatVector, 2, v => v.FloatVector = new FloatArray { Data = { 0, 1, 10, 11, 20, 21, 30, 31 } });

        var middle = FieldDataRows.Slice(vectors, 1, 2);

        Assert.Equal([10f, 11, 20, 21], middle.Vectors.FloatVector.Data);
        Assert.Equal((2L, "FloatVector", 102L), (middle.Vectors.Dim, middle.FieldName, middle.FieldId));
    }

    [Fact]
    public void A_nullable_column_keeps_its_flags_and_the_data_of_its_valid_rows()
    {
        // Data for the valid rows only (rows 0 and 2 of 3), as a client may send it.
        var compact = Scalars(DataType.Int64, s => s.LongData = new LongArray { Data = { 5, 7 } });
        compact.ValidData.AddRange([true, false, true]);
        // Data for every row (a placeholder for the null one), as the proxy fills it.
        var full = Scalars(DataType.Int64, s => s.LongData = new LongArray { Data = { 8, 0 } });
        full.ValidData.AddRange([true, false]);

        Assert.Equal(3, FieldDataRows.RowCount(compact));
        var last = FieldDataRows.Slice(compact, 1, 2);
        Assert.Equal([false, true], last.ValidData);
        Assert.Equal([7L], last.Scalars.LongData.Data);

        var joined = FieldDataRows.Concat([compact, full]);
        Assert.Equal([true, false, true, true, false], joined.ValidData);
        Assert.Equal([5L, 7, 8], joined.Scalars.LongData.Data);
    }

    [Fact]
    public void A_vector_column_without_its_dim_or_of_broken_length_is_a_format_error()
    {
        Assert.Throws<FormatException>(() => FieldDataRows.RowCount(Vectors(DataType.FloatVector, 0, v => v.FloatVector = new FloatArray { Data = { 1, 2 } })));
        Assert.Throws<FormatException>(() => FieldDataRows.RowCount(Vectors(DataType.FloatVector, 2, v => v.FloatVector = new FloatArray { Data = { 1, 2, 3 } })));
        Assert.Throws<ArgumentOutOfRangeException>(() => FieldDataRows.Slice(Scalars(DataType.Int64, s => s.LongData = new LongArray { Data = { 1 } }), 0, 2));
    }
}
