using Cdc.Domain.Changes;
using Cdc.Domain.SourceMeta;

namespace Cdc.Application.Replication.Target;

/// <summary>
/// What apply mode "upsert" does with Milvus' encoded messages and schemas: an Insert's columns as Upsert calls, a
/// schema whose primary key keeps the source's keys, and a target schema read back for comparison.
/// </summary>
public interface IUpsertRewriter
{
    /// <summary>
    /// The Upsert calls that write <paramref name="insert"/>'s rows: its columns (msg.proto InsertRequest.fields_data)
    /// as they are, but those named in <paramref name="leftOut"/>; split by rows when they add up to more than
    /// <paramref name="maxBytes"/>.
    /// </summary>
    /// <exception cref="NotSupportedException">The Insert carries no columns (legacy row-based rows).</exception>
    /// <exception cref="InvalidOperationException">One row alone is larger than <paramref name="maxBytes"/>.</exception>
    IReadOnlyList<TargetUpsert> Upserts(InsertChange insert, string collection, string partition, IReadOnlySet<string> leftOut, int maxBytes);

    /// <summary>
    /// A serialized CollectionSchema with autoID off (FieldSchema.autoID of the primary key, CollectionSchema.autoID),
    /// so the target keeps the keys the source generated; the same bytes when nothing is on.
    /// </summary>
    ReadOnlyMemory<byte> KeepingSourceKeys(ReadOnlyMemory<byte> schema);

    /// <summary>A serialized CollectionSchema (a target's, from DescribeCollection) as parsed facts.</summary>
    SourceCollectionSchema Read(ReadOnlyMemory<byte> schema);
}
