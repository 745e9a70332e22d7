using Cdc.Domain.Changes;
using Cdc.Infrastructure.Milvus.Protos.Common;
using Cdc.Infrastructure.Milvus.Protos.Msg;
using Cdc.Infrastructure.Milvus.Protos.Schema;
using Google.Protobuf;

namespace Cdc.Testing.Milvus;

/// <summary>Builds realistic msgstream payloads and schemas for the tests and the source simulator.</summary>
public static class MilvusMessages
{
    public static readonly HybridTimestamp Ts = HybridTimestamp.FromParts(1_723_104_195_025, 1);

    public static CollectionSchema Schema(string name, int dim = 4, bool stringKey = false)
    {
        var schema = new CollectionSchema { Name = name, EnableDynamicField = false };
        schema.Fields.Add(new FieldSchema
        {
            FieldID = 100,
            Name = "pk",
            IsPrimaryKey = true,
            DataType = stringKey ? DataType.VarChar : DataType.Int64,
            TypeParams = { stringKey ? [new Cdc.Infrastructure.Milvus.Protos.Common.KeyValuePair { Key = "max_length", Value = "64" }] : [] },
        });
        schema.Fields.Add(new FieldSchema
        {
            FieldID = 101,
            Name = "vec",
            DataType = DataType.FloatVector,
            TypeParams = { new Cdc.Infrastructure.Milvus.Protos.Common.KeyValuePair { Key = "dim", Value = dim.ToString(System.Globalization.CultureInfo.InvariantCulture) } },
        });
        return schema;
    }

    /// <summary>An Insert of int64 keys and float vectors (given, or 0, 0.5, 1, ... when <paramref name="vectors"/> is null).</summary>
    public static InsertRequest Insert(long collectionId, string shard, IReadOnlyList<long> keys, int dim = 4, ulong? ts = null, long partitionId = 0, string partitionName = "_default",
        IReadOnlyList<float[]>? vectors = null, string collectionName = "books")
    {
        var timestamp = ts ?? Ts.Value;
        var insert = new InsertRequest
        {
            Base = new MsgBase { MsgType = MsgType.Insert, MsgID = 77, Timestamp = timestamp, SourceID = 3 },
            ShardName = shard,
            DbName = "default",
            CollectionName = collectionName,
            PartitionName = partitionName,
            DbID = 1,
            CollectionID = collectionId,
            PartitionID = partitionId,
            SegmentID = 4242,
            NumRows = (ulong)keys.Count,
            Version = InsertDataVersion.ColumnBased,
        };
        insert.Timestamps.AddRange(keys.Select(_ => timestamp));
        insert.RowIDs.AddRange(keys);
        var pk = new FieldData { Type = DataType.Int64, FieldName = "pk", FieldId = 100, Scalars = new ScalarField { LongData = new LongArray() } };
        pk.Scalars.LongData.Data.AddRange(keys);
        var floats = new FloatArray();
        if (vectors is null)
        {
            for (var i = 0; i < keys.Count * dim; i++)
            {
                floats.Data.Add(i * 0.5f);
            }
        }
        else
        {
            if (vectors.Count != keys.Count || vectors.Any(v => v.Length != dim))
            {
                throw new ArgumentException($"expected {keys.Count} vectors of dimension {dim}", nameof(vectors));
            }

            foreach (var vector in vectors)
            {
                floats.Data.Add(vector);
            }
        }

        insert.FieldsData.Add(pk);
        insert.FieldsData.Add(new FieldData
        {
            Type = DataType.FloatVector,
            FieldName = "vec",
            FieldId = 101,
            Vectors = new VectorField { Dim = dim, FloatVector = floats },
        });
        return insert;
    }

    /// <summary>A Delete by int64 keys; an empty <paramref name="partitionName"/> means all partitions.</summary>
    public static DeleteRequest Delete(long collectionId, string shard, IReadOnlyList<long> keys, ulong? ts = null, long partitionId = 0, string partitionName = "",
        string collectionName = "books")
    {
        var timestamp = ts ?? Ts.Value;
        var delete = new DeleteRequest
        {
            Base = new MsgBase { MsgType = MsgType.Delete, Timestamp = timestamp },
            ShardName = shard,
            DbName = "default",
            CollectionName = collectionName,
            CollectionID = collectionId,
            PartitionID = partitionId,
            PartitionName = partitionName,
            NumRows = keys.Count,
            PrimaryKeys = new IDs { IntId = new LongArray() },
        };
        delete.PrimaryKeys.IntId.Data.AddRange(keys);
        delete.Timestamps.AddRange(keys.Select(_ => timestamp));
        return delete;
    }

    public static MsgBase Base(MsgType type, ulong? ts = null) => new() { MsgType = type, Timestamp = ts ?? Ts.Value, MsgID = 9, SourceID = 1 };

    public static SourceMessage Message(IMessage payload, IReadOnlyDictionary<string, string>? properties = null, string channel = "by-dev-rootcoord-dml_0", long offset = 42) =>
        new(channel, new KafkaOffset(offset), properties ?? new Dictionary<string, string>(), payload.ToByteArray());
}
