using Cdc.Application.Replication.Target;
using Cdc.Domain.Changes;
using Cdc.Domain.SourceMeta;
using Cdc.Infrastructure.Milvus.Protos.Schema;
using Cdc.Infrastructure.MilvusWire;
using Cdc.Infrastructure.Source.Metadata;
using Google.Protobuf;

// CollectionSchema.autoID is deprecated in the proto, but an old schema may still have it set.
#pragma warning disable CS0612

namespace Cdc.Infrastructure.Target;

/// <summary>
/// Milvus' bytes for apply mode "upsert". An Insert's columns are the entries of msg.proto InsertRequest.fields_data
/// (field 13), schema.FieldData messages as milvus.proto UpsertRequest.fields_data (field 5) takes them: they are sliced
/// out of the payload and passed on without decoding, unless together they exceed the request limit; then, and only
/// then, they are decoded and split into runs of rows (<see cref="FieldDataRows"/>), halving a run until it fits.
/// </summary>
public sealed class UpsertRewriter : IUpsertRewriter
{
    private const int InsertFieldsData = 13;
    private const int FieldDataName = 2;

    public IReadOnlyList<TargetUpsert> Upserts(InsertChange insert, string collection, string partition, IReadOnlySet<string> leftOut, int maxBytes)
    {
        ArgumentNullException.ThrowIfNull(insert);
        ArgumentNullException.ThrowIfNull(leftOut);
        var columns = Columns(insert.Payload).Where(c => !leftOut.Contains(c.Name)).Select(c => c.Bytes).ToList();
        if (columns.Count == 0)
        {
            if (insert.RowCount == 0) return [];
            throw new NotSupportedException($"the Insert carries its {insert.RowCount} rows without columns (row-based), which an Upsert cannot take");
        }

        var rows = checked((int)insert.RowCount);
        if (columns.Sum(c => (long)c.Length) <= maxBytes) return [new TargetUpsert(collection, partition, columns, rows)];

        var parsed = columns.Select(c => FieldData.Parser.ParseFrom(c.Span)).ToList();
        var calls = new List<TargetUpsert>();
        Split(parsed, 0, rows);
        return calls;

        // Rows [start, start + count) as one call, or halved until each half fits.
        void Split(List<FieldData> all, int start, int count)
        {
            var slice = all.Select(c => FieldDataRows.Slice(c, start, count)).ToList();
            if (slice.Sum(c => (long)c.CalculateSize()) <= maxBytes)
            {
                calls.Add(new TargetUpsert(collection, partition, [.. slice.Select(c => (ReadOnlyMemory<byte>)c.ToByteArray())], count));
                return;
            }

            if (count == 1)
                throw new InvalidOperationException($"row {start} alone is larger than the target's request limit of {maxBytes} bytes");
            Split(all, start, count / 2);
            Split(all, start + (count / 2), count - (count / 2));
        }
    }

    public ReadOnlyMemory<byte> KeepingSourceKeys(ReadOnlyMemory<byte> schema)
    {
        var parsed = Parse(schema);
        if (!parsed.AutoID && !parsed.Fields.Any(f => f.AutoID)) return schema;
        parsed.AutoID = false;
        foreach (var field in parsed.Fields) field.AutoID = false;
        return parsed.ToByteArray();
    }

    public SourceCollectionSchema Read(ReadOnlyMemory<byte> schema)
    {
        var parsed = Parse(schema);
        // DescribeCollection lists the user's fields; an older server may add the system ones (RowID 0, Timestamp 1).
        var fields = parsed.Fields
            .Where(f => !(f.IsDynamic || f.Name == SourceSchemaRebuilder.DynamicFieldName))
            .Where(f => !(f.FieldID is 0 or 1 && f.Name is "RowID" or "Timestamp"))
            .Select(SourceSchemaRebuilder.ToField)
            .ToList();
        return new SourceCollectionSchema(schema, fields, [.. parsed.Functions.Select(SourceSchemaRebuilder.ToFunction)],
            parsed.EnableDynamicField || parsed.Fields.Any(f => f.IsDynamic || f.Name == SourceSchemaRebuilder.DynamicFieldName));
    }

    private static CollectionSchema Parse(ReadOnlyMemory<byte> schema)
    {
        try
        {
            return CollectionSchema.Parser.ParseFrom(schema.Span);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new FormatException($"not a serialized CollectionSchema: {ex.Message}", ex);
        }
    }

    /// <summary>The fields_data entries of an InsertRequest payload: each FieldData's bytes (a slice, not a copy) and its field name.</summary>
    private static List<(string Name, ReadOnlyMemory<byte> Bytes)> Columns(ReadOnlyMemory<byte> payload)
    {
        var columns = new List<(string, ReadOnlyMemory<byte>)>();
        try
        {
            var reader = new ProtobufSpanReader(payload.Span);
            while (!reader.AtEnd)
            {
                var (field, wire) = reader.ReadTag();
                if (field != InsertFieldsData || wire != ProtobufSpanReader.LengthDelimited)
                {
                    reader.Skip(wire);
                    continue;
                }

                var column = reader.ReadLengthDelimited();
                var bytes = payload.Slice(reader.Position - column.Length, column.Length);
                columns.Add((NameOf(column), bytes));
            }
        }
        catch (InvalidDataException ex)
        {
            throw new FormatException($"the Insert's columns are unreadable: {ex.Message}", ex);
        }

        return columns;
    }

    /// <summary>schema.FieldData.field_name (2); "$meta" for the dynamic field, which an Upsert takes as is.</summary>
    private static string NameOf(ReadOnlySpan<byte> column)
    {
        var reader = new ProtobufSpanReader(column);
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadTag();
            if (field == FieldDataName && wire == ProtobufSpanReader.LengthDelimited) return reader.ReadString();
            reader.Skip(wire);
        }

        return "";
    }
}
