namespace Cdc.Application.Replication.Target;

/// <summary>
/// One Upsert call (milvus-proto milvus.proto UpsertRequest): rows of one collection as its columns, each an encoded
/// schema.FieldData of <see cref="RowCount"/> rows (slices of a source Insert, passed through as they are).
/// </summary>
/// <param name="PartitionName">The partition written, or empty for the target's choice (its default partition, or the
/// one a partition key picks).</param>
public sealed record TargetUpsert(string CollectionName, string PartitionName, IReadOnlyList<ReadOnlyMemory<byte>> Columns, int RowCount)
{
    /// <summary>Bytes of the columns: about the size of the request.</summary>
    public long Bytes => Columns.Sum(c => (long)c.Length);
}

/// <summary>One Delete call (milvus-proto milvus.proto DeleteRequest): the rows a boolean expression names.</summary>
/// <param name="PartitionName">The partition deleted from, or empty for every partition.</param>
/// <param name="Expression">E.g. <c>pk in [1,2]</c> (see <see cref="PrimaryKeyExpression"/>).</param>
public sealed record TargetDelete(string CollectionName, string PartitionName, string Expression);
