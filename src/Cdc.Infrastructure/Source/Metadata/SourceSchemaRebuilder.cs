using Cdc.Domain.SourceMeta;
using Cdc.Infrastructure.Milvus.Protos.Schema;
using Cdc.Infrastructure.Target;
using Google.Protobuf;

namespace Cdc.Infrastructure.Source.Metadata;

/// <summary>
/// Rebuilds a collection's schema the way the reference CDC does for the target's CreateCollection: the
/// collection-level part (name, description, properties, dynamic flag …) from collection-info, whose
/// <c>schema.fields</c> is empty in the 2.3+ layout; the fields from <c>fields/&lt;collID&gt;/</c> without the system
/// fields (id &lt; 100) and without <c>$meta</c>, which becomes <c>enable_dynamic_field=true</c>; the functions (2.5)
/// from <c>functions/&lt;collID&gt;/</c>.
/// </summary>
internal static class SourceSchemaRebuilder
{
    /// <summary>Milvus' StartOfUserFieldID: 0 is RowID, 1 is Timestamp.</summary>
    public const long FirstUserFieldId = 100;

    /// <summary>Milvus' MetaFieldName: the JSON field that holds a dynamic schema's extra keys.</summary>
    public const string DynamicFieldName = "$meta";

    public static SourceCollectionSchema Rebuild(
        CollectionSchema? stored, IEnumerable<FieldSchema> fields, IEnumerable<FunctionSchema> functions)
    {
        var schema = stored?.Clone() ?? new CollectionSchema();
        // Layouts that still keep the fields inside collection-info: use them when no field keys exist.
        var sourceFields = fields.ToList();
        if (sourceFields.Count == 0) sourceFields = [.. schema.Fields];
        schema.Fields.Clear();
        schema.Functions.Clear();

        foreach (var field in sourceFields.OrderBy(f => f.FieldID))
        {
            if (field.FieldID < FirstUserFieldId) continue;
            if (field.Name == DynamicFieldName || field.IsDynamic)
            {
                schema.EnableDynamicField = true;
                continue;
            }
            schema.Fields.Add(field.Clone());
        }
        foreach (var function in functions.OrderBy(f => f.Id))
        {
            schema.Functions.Add(function.Clone());
        }

        return new SourceCollectionSchema(
            schema.ToByteArray(),
            [.. schema.Fields.Select(ToField)],
            [.. schema.Functions.Select(ToFunction)],
            schema.EnableDynamicField);
    }

    internal static SourceField ToField(FieldSchema field) => new(
        field.FieldID,
        field.Name,
        (SourceDataType)(int)field.DataType,
        field.IsPrimaryKey,
        field.AutoID,
        field.IsPartitionKey,
        field.Nullable,
        (SourceDataType)(int)field.ElementType,
        MilvusWire.KeyValuePairs.ToDictionary(field.TypeParams));

    internal static SourceFunction ToFunction(FunctionSchema function) => new(
        function.Id,
        function.Name,
        function.Type switch
        {
            FunctionType.Bm25 => "BM25",
            FunctionType.TextEmbedding => "TextEmbedding",
            FunctionType.Unknown => "Unknown",
            var other => ((int)other).ToString(System.Globalization.CultureInfo.InvariantCulture),
        },
        [.. function.InputFieldNames],
        [.. function.OutputFieldNames]);
}
