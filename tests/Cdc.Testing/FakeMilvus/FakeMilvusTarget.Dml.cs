using Cdc.Infrastructure.Milvus.Protos.Schema;
using Cdc.Infrastructure.MilvusWire;
using Google.Protobuf.Collections;
using Rpc = Cdc.Infrastructure.Milvus.Protos.Rpc;

namespace Cdc.Testing.FakeMilvus;

/// <summary>
/// The normal DML RPCs of the fake target, with Milvus 2.4/2.5's semantics (milvus-io/milvus internal/proxy
/// task_upsert.go, task_delete.go, task_query.go): an Upsert replaces the rows of its keys in its partition (every
/// partition of a partition-key collection) and checks its columns against the schema; a Delete removes the rows of the
/// keys its expression names; a Query counts rows (count(*): every row, a key written twice counted twice) or fetches
/// them by key (one row a key, the latest). A target in the CDC's standby role (ttMsgEnabled false) refuses the writes,
/// as its message stream refuses to produce.
/// </summary>
internal sealed partial class FakeMilvusTarget
{
    private const string CountStar = "count(*)";
    private const string DynamicFieldName = "$meta";
    private ulong _lastWriteTs;

    private Rpc.MutationResult Upsert(Rpc.UpsertRequest request, string? dbFromMetadata)
    {
        DenyWritesOnAStandby();
        var collection = Collection(dbFromMetadata, request.DbName, request.CollectionName);
        var schema = collection.Schema;
        var primary = schema.Fields.First(f => f.IsPrimaryKey);
        if (primary.AutoID)
            throw new FakeMilvusError(FakeMilvusError.ParameterInvalid, "invalid parameter[expected=primary field data not set][actual=upsert can not assign primary field data when auto id enabled]");

        var partitionKeyMode = schema.Fields.Any(f => f.IsPartitionKey);
        var partitionId = WritePartition(collection, request.PartitionName, partitionKeyMode);
        CheckColumns(collection, request.FieldsData, (int)request.NumRows);

        var keys = Keys(request.FieldsData.First(f => f.FieldName == primary.Name), primary);
        if (options.ApplyRows)
        {
            var ts = NextWriteTimestamp();
            for (var i = 0; i < keys.Count; i++)
            {
                RemoveRows(collection, keys[i], partitionKeyMode ? null : partitionId);
                Add(collection, new FakeRow(keys[i], partitionId, ts) { Fields = RowOf(request.FieldsData, i) });
            }
        }

        return new Rpc.MutationResult { Status = Ok(), IDs = Ids(keys, primary), UpsertCnt = keys.Count, Timestamp = _lastWriteTs };
    }

    private Rpc.MutationResult Delete(Rpc.DeleteRequest request, string? dbFromMetadata)
    {
        DenyWritesOnAStandby();
        var collection = Collection(dbFromMetadata, request.DbName, request.CollectionName);
        var primary = collection.Schema.Fields.First(f => f.IsPrimaryKey);
        long? partitionId = null;
        if (request.PartitionName.Length > 0)
        {
            if (collection.Schema.Fields.Any(f => f.IsPartitionKey))
                throw new FakeMilvusError(FakeMilvusError.ParameterInvalid, "not support manually specifying the partition names if partition key mode is used");
            partitionId = collection.Partitions.TryGetValue(request.PartitionName, out var id)
                ? id
                : throw new FakeMilvusError(FakeMilvusError.PartitionNotFound, $"partition not found[partition={request.PartitionName}]");
        }

        var keys = KeysOf(request.Expr, primary);
        if (options.ApplyRows)
        {
            foreach (var key in keys) RemoveRows(collection, key, partitionId);
            NextWriteTimestamp();
        }

        return new Rpc.MutationResult { Status = Ok(), IDs = Ids(keys, primary), DeleteCnt = keys.Count, Timestamp = _lastWriteTs };
    }

    private Rpc.QueryResults Query(Rpc.QueryRequest request, string? dbFromMetadata)
    {
        var collection = Collection(dbFromMetadata, request.DbName, request.CollectionName);
        if (!collection.IsLoaded && collection.LoadedPartitions.Count == 0)
            throw new FakeMilvusError(101, $"collection not loaded[collection={collection.Name}]");

        var primary = collection.Schema.Fields.First(f => f.IsPrimaryKey);
        var partitions = new HashSet<long>();
        foreach (var name in request.PartitionNames)
        {
            partitions.Add(collection.Partitions.TryGetValue(name, out var id)
                ? id
                : throw new FakeMilvusError(FakeMilvusError.PartitionNotFound, $"partition not found[partition={name}]"));
        }

        var rows = (request.Expr.Trim().Length == 0
                ? collection.Rows.Values.SelectMany(r => r)
                : KeysOf(request.Expr, primary).Distinct().SelectMany(k => collection.Rows.GetValueOrDefault(k) ?? []))
            .Where(r => partitions.Count == 0 || partitions.Contains(r.PartitionId))
            .ToList();
        var results = new Rpc.QueryResults { Status = Ok(), CollectionName = collection.Name, PrimaryFieldName = primary.Name };

        if (request.OutputFields.Any(f => f.Trim().Equals(CountStar, StringComparison.OrdinalIgnoreCase)))
        {
            if (request.OutputFields.Count > 1)
                throw new FakeMilvusError(FakeMilvusError.ParameterInvalid, "count entities with pagination or output fields is not allowed");
            var count = new FieldData { Type = DataType.Int64, FieldName = CountStar, Scalars = new ScalarField { LongData = new LongArray() } };
            count.Scalars.LongData.Data.Add(rows.Count);
            results.FieldsData.Add(count);
            results.OutputFields.Add(CountStar);
            return results;
        }

        // One row a key, the latest written, in key order.
        var fetched = rows.GroupBy(r => r.PrimaryKey).Select(g => g.MaxBy(r => r.Timestamp)!).OrderBy(r => r.PrimaryKey).ToList();
        var fields = new List<string> { primary.Name };
        foreach (var name in request.OutputFields.Select(f => f.Trim()).Where(f => f.Length > 0))
        {
            if (name == "*")
            {
                fields.AddRange(collection.Schema.Fields.Select(f => f.Name));
                continue;
            }

            if (!collection.Schema.Fields.Any(f => f.Name == name) && !(collection.Schema.EnableDynamicField && name == DynamicFieldName))
                throw new FakeMilvusError(FakeMilvusError.ParameterInvalid, $"field {name} not exist");
            fields.Add(name);
        }

        foreach (var name in fields.Distinct())
        {
            var parts = fetched.Select(r => r.Fields.GetValueOrDefault(name)).OfType<FieldData>().ToList();
            if (parts.Count != fetched.Count)
                throw new FakeMilvusError(FakeMilvusError.Unexpected, $"the fake target did not keep the values of field {name} (rows applied without their values)");
            results.FieldsData.Add(parts.Count > 0 ? FieldDataRows.Concat(parts) : new FieldData { FieldName = name, Type = TypeOf(collection, name) });
            results.OutputFields.Add(name);
        }

        return results;
    }

    /// <summary>A standby (ttMsgEnabled false) produces nothing but what ReplicateMessage brings (milvus-io/milvus pkg/mq/msgstream/mq_msgstream.go, Produce).</summary>
    private void DenyWritesOnAStandby()
    {
        if (!TtMsgEnabled) throw new FakeMilvusError(FakeMilvusError.DenyProduce, "deny to write the message to mq");
    }

    private static long WritePartition(CollectionState collection, string name, bool partitionKeyMode)
    {
        if (partitionKeyMode)
        {
            if (name.Length > 0)
                throw new FakeMilvusError(FakeMilvusError.ParameterInvalid, "not support manually specifying the partition names if partition key mode is used");
            return collection.Partitions[DefaultPartition];
        }

        var partition = name.Length > 0 ? name : DefaultPartition;
        return collection.Partitions.TryGetValue(partition, out var id)
            ? id
            : throw new FakeMilvusError(FakeMilvusError.PartitionNotFound, $"partition not found[partition={partition}]");
    }

    /// <summary>The columns of a write against the schema, as the proxy checks them before it writes anything.</summary>
    private static void CheckColumns(CollectionState collection, RepeatedField<FieldData> columns, int numRows)
    {
        var schema = collection.Schema;
        foreach (var column in columns)
        {
            if (column.IsDynamic || column.FieldName == DynamicFieldName)
            {
                if (!schema.EnableDynamicField)
                    throw new FakeMilvusError(FakeMilvusError.ParameterInvalid, $"the dynamic field is not enabled in collection {collection.Name}");
                continue;
            }

            var field = schema.Fields.FirstOrDefault(f => f.Name == column.FieldName)
                ?? throw new FakeMilvusError(FakeMilvusError.ParameterInvalid, $"the field {column.FieldName} is not in the schema of collection {collection.Name}");
            if (field.IsFunctionOutput)
                throw new FakeMilvusError(FakeMilvusError.ParameterInvalid, $"attempt to insert function output field {field.Name}");
            if (field.DataType != column.Type)
                throw new FakeMilvusError(FakeMilvusError.ParameterInvalid, $"the data type of field {field.Name} is {field.DataType}, the data given is {column.Type}");
            if (field.TypeParams.FirstOrDefault(p => p.Key == "dim") is { } dim && column.Vectors is { } vectors && dim.Value != vectors.Dim.ToString(System.Globalization.CultureInfo.InvariantCulture)
                && column.Type != DataType.SparseFloatVector)
                throw new FakeMilvusError(FakeMilvusError.ParameterInvalid, $"the dim ({vectors.Dim}) of field data({field.Name}) is not equal to schema dim ({dim.Value})");

            int rows;
            try
            {
                rows = FieldDataRows.RowCount(column);
            }
            catch (FormatException ex)
            {
                throw new FakeMilvusError(FakeMilvusError.ParameterInvalid, ex.Message);
            }

            if (rows != numRows)
                throw new FakeMilvusError(FakeMilvusError.ParameterInvalid, $"the num_rows ({rows}) of field ({field.Name}) is not equal to passed num_rows ({numRows})");
        }

        foreach (var field in schema.Fields.Where(f => !f.IsFunctionOutput && !f.Nullable && f.DefaultValue is null))
        {
            if (!columns.Any(c => c.FieldName == field.Name))
                throw new FakeMilvusError(FakeMilvusError.ParameterInvalid, $"fieldSchema({field.Name}) has no corresponding fieldData pass in");
        }
    }

    private static List<object> Keys(FieldData column, FieldSchema primary) => column.Scalars?.DataCase switch
    {
        ScalarField.DataOneofCase.LongData when primary.DataType == DataType.Int64 => [.. column.Scalars.LongData.Data.Cast<object>()],
        ScalarField.DataOneofCase.StringData when primary.DataType == DataType.VarChar => [.. column.Scalars.StringData.Data.Cast<object>()],
        _ => throw new FakeMilvusError(FakeMilvusError.ParameterInvalid, $"the primary key column {column.FieldName} does not hold {primary.DataType} keys"),
    };

    /// <summary>The keys a Delete's or Query's expression names; it must compare the primary key with keys of its type.</summary>
    private static List<object> KeysOf(string expression, FieldSchema primary)
    {
        FakeKeyExpression parsed;
        try
        {
            parsed = FakeKeyExpression.Parse(expression);
        }
        catch (FormatException ex)
        {
            throw new FakeMilvusError(FakeMilvusError.ParameterInvalid, ex.Message);
        }

        if (parsed.Field != primary.Name)
            throw new FakeMilvusError(FakeMilvusError.ParameterInvalid, $"cannot parse expression: {expression}, error: the fake target filters by the primary key {primary.Name} only");
        var expected = primary.DataType == DataType.Int64 ? typeof(long) : typeof(string);
        if (parsed.Keys.Any(k => k.GetType() != expected))
            throw new FakeMilvusError(FakeMilvusError.ParameterInvalid, $"cannot parse expression: {expression}, error: the values are not of the type of {primary.Name} ({primary.DataType})");
        return [.. parsed.Keys];
    }

    private static IDs Ids(IReadOnlyList<object> keys, FieldSchema primary)
    {
        var ids = new IDs();
        if (primary.DataType == DataType.Int64)
            ids.IntId = new LongArray { Data = { keys.Cast<long>() } };
        else
            ids.StrId = new StringArray { Data = { keys.Cast<string>() } };
        return ids;
    }

    /// <summary>Row <paramref name="row"/> of every column, as one-row columns by field name.</summary>
    private static Dictionary<string, FieldData> RowOf(RepeatedField<FieldData> columns, int row)
    {
        try
        {
            return columns.ToDictionary(c => c.IsDynamic ? DynamicFieldName : c.FieldName, c => FieldDataRows.Slice(c, row, 1));
        }
        catch (Exception ex) when (ex is FormatException or ArgumentOutOfRangeException)
        {
            throw new FakeMilvusError(FakeMilvusError.ParameterInvalid, $"invalid field data: {ex.Message}");
        }
    }

    /// <summary>
    /// The values of row <paramref name="row"/> of a replicated insert, when every column holds the insert's
    /// <paramref name="rows"/> rows; none otherwise (the fake keeps the keys of inserts it was not given whole columns of).
    /// </summary>
    private static Dictionary<string, FieldData> ValuesOf(RepeatedField<FieldData> columns, int row, int rows)
    {
        try
        {
            if (columns.All(c => FieldDataRows.RowCount(c) == rows)) return RowOf(columns, row);
        }
        catch (FormatException)
        {
        }

        return [];
    }

    private static void Add(CollectionState collection, FakeRow row)
    {
        if (!collection.Rows.TryGetValue(row.PrimaryKey, out var rows)) collection.Rows[row.PrimaryKey] = rows = [];
        rows.Add(row);
    }

    /// <summary>Removes the rows of a key, in one partition or (null) in all.</summary>
    private static void RemoveRows(CollectionState collection, object key, long? partitionId)
    {
        if (!collection.Rows.TryGetValue(key, out var rows)) return;
        rows.RemoveAll(r => partitionId is not { } id || r.PartitionId == id);
        if (rows.Count == 0) collection.Rows.Remove(key);
    }

    private static DataType TypeOf(CollectionState collection, string field) =>
        collection.Schema.Fields.FirstOrDefault(f => f.Name == field)?.DataType ?? DataType.Json;

    /// <summary>A hybrid timestamp above every earlier write of the fake (physical ms of its clock, logical counter).</summary>
    private ulong NextWriteTimestamp()
    {
        var now = (ulong)options.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds() << 18;
        _lastWriteTs = Math.Max(now, _lastWriteTs + 1);
        return _lastWriteTs;
    }
}
