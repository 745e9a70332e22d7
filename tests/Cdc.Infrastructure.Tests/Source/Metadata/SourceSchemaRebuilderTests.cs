using Cdc.Infrastructure.Milvus.Protos.Schema;
using Cdc.Infrastructure.Source.Metadata;

namespace Cdc.Infrastructure.Tests.Source.Metadata;

public sealed class SourceSchemaRebuilderTests
{
    private static FieldSchema Field(long id, string name, DataType type = DataType.Int64) => new() { FieldID = id, Name = name, DataType = type };

    [Fact]
    public void System_fields_are_skipped_and_meta_turns_on_the_dynamic_flag()
    {
        var stored = new CollectionSchema { Name = "c", Description = "d", EnableDynamicField = false };

        var schema = SourceSchemaRebuilder.Rebuild(stored,
            [Field(0, "RowID"), Field(1, "Timestamp"), Field(100, "pk"), Field(101, "$meta", DataType.Json), Field(99, "odd")],
            []);

        Assert.True(schema.EnableDynamicField);
        var decoded = CollectionSchema.Parser.ParseFrom(schema.Serialized.Span);
        Assert.True(decoded.EnableDynamicField);
        Assert.Equal(["pk"], decoded.Fields.Select(f => f.Name));
        Assert.Equal(("c", "d"), (decoded.Name, decoded.Description));
        Assert.Empty(stored.Fields); // the stored schema is left alone
    }

    [Fact]
    public void Fields_and_functions_are_ordered_by_id_and_the_dynamic_flag_stays_off_without_meta()
    {
        var schema = SourceSchemaRebuilder.Rebuild(new CollectionSchema { Name = "c" },
            [Field(1000, "late"), Field(101, "b"), Field(100, "a", DataType.FloatVector)],
            [new FunctionSchema { Id = 101, Name = "f2" }, new FunctionSchema { Id = 100, Name = "f1", Type = FunctionType.Bm25 }]);

        Assert.False(schema.EnableDynamicField);
        Assert.Equal(["a", "b", "late"], schema.Fields.Select(f => f.Name));
        Assert.Equal(["f1", "f2"], schema.Functions.Select(f => f.Name));
        Assert.Equal("BM25", schema.Functions[0].Type);
        Assert.Equal(["a", "b", "late"], CollectionSchema.Parser.ParseFrom(schema.Serialized.Span).Fields.Select(f => f.Name));
    }

    [Fact]
    public void Fields_kept_inside_collection_info_are_used_when_there_are_no_field_keys()
    {
        var stored = new CollectionSchema { Name = "c", Fields = { Field(0, "RowID"), Field(100, "pk") } };

        var schema = SourceSchemaRebuilder.Rebuild(stored, [], []);

        Assert.Equal(["pk"], schema.Fields.Select(f => f.Name));
    }
}
