using System.Runtime.InteropServices;
using Cdc.Domain.Changes;
using Cdc.Infrastructure.Decoding;
using Cdc.Infrastructure.Milvus.Protos.Schema;
using Cdc.Infrastructure.MilvusWire;
using Cdc.Infrastructure.Target;
using Google.Protobuf;
using static Cdc.Testing.Milvus.MilvusMessages;

#pragma warning disable CS0612 // CollectionSchema.autoID: deprecated, still read and cleared

namespace Cdc.Infrastructure.Tests.Target;

/// <summary>What apply mode "upsert" does with Milvus' bytes: an Insert's columns passed on, split only past the limit, and schemas.</summary>
public sealed class UpsertRewriterTests
{
    private readonly UpsertRewriter _rewriter = new();
    private static readonly HashSet<string> Nothing = [];

    private static InsertChange Decoded(Cdc.Infrastructure.Milvus.Protos.Msg.InsertRequest insert) =>
        (InsertChange)new MsgStreamDecoder().Decode(Message(insert)).Change!;

    [Fact]
    public void The_columns_go_out_as_the_source_encoded_them_without_a_copy()
    {
        var insert = Insert(7, "ch_7v0", [1, 2, 3], dim: 4);
        var change = Decoded(insert);

        var upsert = Assert.Single(_rewriter.Upserts(change, "books", "_default", Nothing, 1 << 20));

        Assert.Equal(("books", "_default", 3), (upsert.CollectionName, upsert.PartitionName, upsert.RowCount));
        Assert.Equal(insert.FieldsData.Select(f => f.ToByteArray()), upsert.Columns.Select(c => c.ToArray()));
        Assert.True(MemoryMarshal.TryGetArray(change.Payload, out var payload));
        Assert.All(upsert.Columns, c => Assert.True(MemoryMarshal.TryGetArray(c, out var column) && ReferenceEquals(column.Array, payload.Array)));
    }

    [Fact]
    public void Columns_named_to_leave_out_stay_behind()
    {
        var insert = Insert(7, "ch_7v0", [1, 2], dim: 4);
        insert.FieldsData.Add(new FieldData { Type = DataType.SparseFloatVector, FieldName = "bm25_out", Vectors = new VectorField { Dim = 5, SparseFloatVector = new SparseFloatArray { Dim = 5, Contents = { ByteString.Empty, ByteString.Empty } } } });

        var upsert = Assert.Single(_rewriter.Upserts(Decoded(insert), "books", "", new HashSet<string> { "bm25_out" }, 1 << 20));

        Assert.Equal(["pk", "vec"], upsert.Columns.Select(c => FieldData.Parser.ParseFrom(c.Span).FieldName));
    }

    [Fact]
    public void Columns_past_the_limit_are_split_into_runs_of_rows_that_fit()
    {
        var keys = Enumerable.Range(1, 1000).Select(i => (long)i).ToList();
        var insert = Insert(7, "ch_7v0", keys, dim: 16);

        var upserts = _rewriter.Upserts(Decoded(insert), "books", "p1", Nothing, 20_000);

        Assert.True(upserts.Count > 1);
        Assert.All(upserts, u => Assert.InRange(u.Bytes, 1, 20_000));
        Assert.Equal(1000, upserts.Sum(u => u.RowCount));
        var columns = upserts.Select(u => u.Columns.Select(c => FieldData.Parser.ParseFrom(c.Span)).ToList()).ToList();
        Assert.Equal(insert.FieldsData[0], FieldDataRows.Concat([.. columns.Select(c => c[0])]));
        Assert.Equal(insert.FieldsData[1], FieldDataRows.Concat([.. columns.Select(c => c[1])]));
        Assert.All(upserts.Zip(columns), p => Assert.Equal(p.First.RowCount, FieldDataRows.RowCount(p.Second[0])));
    }

    [Fact]
    public void A_row_larger_than_the_limit_alone_cannot_be_written()
    {
        var error = Assert.Throws<InvalidOperationException>(() => _rewriter.Upserts(Decoded(Insert(7, "ch_7v0", [1, 2], dim: 64)), "books", "", Nothing, 100));

        Assert.Contains("larger than the target's request limit of 100 bytes", error.Message);
    }

    [Fact]
    public void A_schema_keeps_the_source_keys_with_autoID_off()
    {
        var schema = Schema("books");
        schema.Fields[0].AutoID = true;
        schema.AutoID = true;

        var kept = CollectionSchema.Parser.ParseFrom(_rewriter.KeepingSourceKeys(schema.ToByteArray()).Span);

        Assert.False(kept.AutoID);
        Assert.All(kept.Fields, f => Assert.False(f.AutoID));
        schema.Fields[0].AutoID = false;
        schema.AutoID = false;
        Assert.Equal(schema, kept);
        var plain = Schema("authors").ToByteArray();
        Assert.Equal(plain, _rewriter.KeepingSourceKeys(plain).ToArray());
    }

    [Fact]
    public void A_target_schema_reads_as_its_user_fields_and_dynamic_flag()
    {
        var schema = Schema("books", dim: 8);
        schema.Fields.Add(new FieldSchema { FieldID = 102, Name = "$meta", DataType = DataType.Json, IsDynamic = true });
        schema.Fields.Add(new FieldSchema { FieldID = 0, Name = "RowID", DataType = DataType.Int64 });

        var read = _rewriter.Read(schema.ToByteArray());

        Assert.Equal(["pk", "vec"], read.Fields.Select(f => f.Name));
        Assert.True(read.EnableDynamicField);
        Assert.Equal(8, read.Field("vec")!.Dimension);
        Assert.Equal("pk", read.PrimaryKey!.Name);
        Assert.Throws<FormatException>(() => _rewriter.Read(new byte[] { 0x0A, 0xFF }));
    }
}
