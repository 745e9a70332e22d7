using System.Buffers;
using Grpc.Core;
using Rpc = Cdc.Infrastructure.Milvus.Protos.Rpc;

namespace Cdc.Infrastructure.Target;

/// <summary>
/// An UpsertRequest (milvus-proto milvus.proto) whose fields_data (field 5, repeated schema.FieldData) are columns
/// already encoded, which stay where they are (<see cref="EncodedRequest"/>): base, db_name, collection_name,
/// partition_name (1 to 4), each column, then hash_keys, num_rows, schema_timestamp (6 to 8). The columns of a source
/// Insert (msg.proto InsertRequest.fields_data = 13) are the same FieldData messages, so they go out as they came.
/// </summary>
internal sealed class EncodedUpsertRequest : EncodedRequest
{
    /// <summary>MilvusService/Upsert with this request type; the response is the generated MutationResult.</summary>
    public static readonly Method<EncodedUpsertRequest, Rpc.MutationResult> Method =
        MilvusMethod<EncodedUpsertRequest, Rpc.MutationResult>("Upsert", Rpc.MutationResult.Parser);

    /// <param name="fields">Every field but fields_data, which must be empty.</param>
    /// <param name="columns">The encoded FieldData messages, in order.</param>
    public EncodedUpsertRequest(Rpc.UpsertRequest fields, IReadOnlyList<ReadOnlySequence<byte>> columns)
        : base(Head(fields), Rpc.UpsertRequest.FieldsDataFieldNumber, columns,
            new Rpc.UpsertRequest { HashKeys = { fields.HashKeys }, NumRows = fields.NumRows, SchemaTimestamp = fields.SchemaTimestamp })
    {
    }

    private static Rpc.UpsertRequest Head(Rpc.UpsertRequest fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        if (fields.FieldsData.Count > 0) throw new ArgumentException("the columns go apart, not in the request's fields_data", nameof(fields));
        return new Rpc.UpsertRequest
        {
            Base = fields.Base,
            DbName = fields.DbName,
            CollectionName = fields.CollectionName,
            PartitionName = fields.PartitionName,
        };
    }
}
