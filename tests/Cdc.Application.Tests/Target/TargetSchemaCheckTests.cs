using Cdc.Application.Replication.Target;
using Cdc.Domain.SourceMeta;

namespace Cdc.Application.Tests.Target;

/// <summary>Whether a target collection takes the source's rows as upserts, and if not, why, field by field.</summary>
public sealed class TargetSchemaCheckTests
{
    private static SourceField Field(string name, SourceDataType type, bool key = false, bool autoId = false, int? dim = null, bool nullable = false,
        SourceDataType element = SourceDataType.None) =>
        new(100, name, type, key, autoId, false, nullable, element,
            dim is { } d ? new Dictionary<string, string> { ["dim"] = d.ToString(System.Globalization.CultureInfo.InvariantCulture) } : new Dictionary<string, string>());

    private static SourceCollectionSchema Schema(bool dynamic = false, IReadOnlyList<SourceFunction>? functions = null, params SourceField[] fields) =>
        new(ReadOnlyMemory<byte>.Empty, fields, functions ?? [], dynamic);

    private static readonly SourceCollectionSchema Source = Schema(true, null,
        Field("pk", SourceDataType.Int64, key: true, autoId: true), Field("vec", SourceDataType.FloatVector, dim: 4),
        Field("tags", SourceDataType.Array, element: SourceDataType.VarChar), Field("note", SourceDataType.VarChar, nullable: true));

    [Fact]
    public void The_same_fields_with_the_key_kept_take_the_rows()
    {
        var target = Schema(true, null,
            Field("pk", SourceDataType.Int64, key: true), Field("vec", SourceDataType.FloatVector, dim: 4),
            Field("tags", SourceDataType.Array, element: SourceDataType.VarChar), Field("note", SourceDataType.VarChar, nullable: true),
            Field("added_later", SourceDataType.Int32, nullable: true));

        Assert.Empty(TargetSchemaCheck.Differences(Source, target));
    }

    [Fact]
    public void Every_difference_is_named()
    {
        var target = Schema(false, null,
            Field("pk", SourceDataType.Int64, key: true, autoId: true), Field("vec", SourceDataType.FloatVector, dim: 8),
            Field("tags", SourceDataType.Array, element: SourceDataType.Int64), Field("note", SourceDataType.VarChar),
            Field("extra", SourceDataType.Bool));

        Assert.Equal(
            [
                "field vec has dim 8 on the target, 4 on the source",
                "field tags holds Int64 on the target, VarChar on the source",
                "field note may be null on the source, not on the target",
                "field extra (Bool) is on the target only",
                "the primary key pk generates its own ids (autoID) on the target, so the source's keys cannot be kept",
                "the source has a dynamic field, the target none",
            ],
            TargetSchemaCheck.Differences(Source, target));
    }

    [Fact]
    public void Missing_fields_other_types_and_another_key_are_named()
    {
        var target = Schema(true, null, Field("pk", SourceDataType.VarChar), Field("id", SourceDataType.Int64, key: true),
            Field("vec", SourceDataType.BinaryVector, dim: 4), Field("tags", SourceDataType.Array, element: SourceDataType.VarChar),
            Field("note", SourceDataType.VarChar, nullable: true));

        var differences = TargetSchemaCheck.Differences(Source, target);

        Assert.Contains("field pk is VarChar on the target, Int64 on the source", differences);
        Assert.Contains("field pk is the primary key on the source only", differences);
        Assert.Contains("field vec is BinaryVector on the target, FloatVector on the source", differences);
        Assert.Contains("field id (Int64) is on the target only", differences);
        Assert.DoesNotContain(differences, d => d.Contains("tags"));
    }

    [Fact]
    public void A_field_the_target_computes_with_a_function_is_not_a_difference()
    {
        var bm25 = new SourceFunction(1, "bm25", "BM25", ["text"], ["sparse"]);
        var source = Schema(false, [bm25], Field("pk", SourceDataType.Int64, key: true), Field("text", SourceDataType.VarChar), Field("sparse", SourceDataType.SparseFloatVector));
        var target = Schema(false, [bm25], Field("pk", SourceDataType.Int64, key: true), Field("text", SourceDataType.VarChar), Field("sparse", SourceDataType.SparseFloatVector),
            Field("sparse2", SourceDataType.SparseFloatVector));

        Assert.Equal(["field sparse2 (SparseFloatVector) is on the target only"], TargetSchemaCheck.Differences(source, target));
    }
}
