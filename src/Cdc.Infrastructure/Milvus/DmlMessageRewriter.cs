using Cdc.Application.Replication.Ports;
using Cdc.Domain.Changes;
using Cdc.Infrastructure.Milvus.Protos.Common;
using Cdc.Infrastructure.Milvus.Protos.Msg;
using Google.Protobuf;

namespace Cdc.Infrastructure.Milvus;

/// <summary>
/// Rewrites Insert and Delete payloads (and the ids of DropCollection / DropPartition) for the target: collectionID, partitionID, shardName, names, base.timestamp and
/// the per-row timestamps. segmentID of an insert is cleared, because the target proxy assigns its own. Fields this
/// code does not know survive unchanged (Google.Protobuf keeps unknown fields).
/// </summary>
public sealed class DmlMessageRewriter : IDmlMessageRewriter
{
    public byte[] Rewrite(SourceChange change, DmlRewrite rewrite) => change switch
    {
        InsertChange insert => RewriteInsert(insert.Payload.Span, rewrite),
        DeleteChange delete => RewriteDelete(delete.Payload.Span, rewrite),
        DropCollectionChange drop => RewriteDropCollection(drop.Payload.Span, rewrite.TargetCollectionId, rewrite.DbName, rewrite.CollectionName, rewrite.Timestamp),
        DropPartitionChange drop => RewriteDropPartition(drop.Payload.Span, rewrite.TargetCollectionId,
            rewrite.TargetPartitionId ?? throw new ArgumentException("a DropPartition rewrite needs the target partition id", nameof(rewrite)),
            rewrite.DbName, rewrite.CollectionName, rewrite.Timestamp),
        _ => throw new NotSupportedException($"{change.Kind} is not forwarded through ReplicateMessage"),
    };

    public static byte[] RewriteInsert(ReadOnlySpan<byte> payload, DmlRewrite rewrite)
    {
        var insert = InsertRequest.Parser.ParseFrom(payload);
        insert.CollectionID = rewrite.TargetCollectionId;
        insert.ShardName = rewrite.TargetShardName;
        insert.SegmentID = 0;
        if (rewrite.TargetPartitionId is { } partition)
        {
            insert.PartitionID = partition;
        }

        if (rewrite.DbName is not null)
        {
            insert.DbName = rewrite.DbName;
        }

        if (rewrite.CollectionName is not null)
        {
            insert.CollectionName = rewrite.CollectionName;
        }

        if (rewrite.Timestamp is { } timestamp)
        {
            insert.Base ??= new MsgBase { MsgType = MsgType.Insert };
            insert.Base.Timestamp = timestamp.Value;
            for (var i = 0; i < insert.Timestamps.Count; i++)
            {
                insert.Timestamps[i] = timestamp.Value;
            }
        }

        return insert.ToByteArray();
    }

    public static byte[] RewriteDelete(ReadOnlySpan<byte> payload, DmlRewrite rewrite)
    {
        var delete = DeleteRequest.Parser.ParseFrom(payload);
        delete.CollectionID = rewrite.TargetCollectionId;
        delete.ShardName = rewrite.TargetShardName;

        // A delete without partition name applies to all partitions; its partition id is left alone then.
        if (rewrite.TargetPartitionId is { } partition && delete.PartitionName.Length > 0)
        {
            delete.PartitionID = partition;
        }

        if (rewrite.DbName is not null)
        {
            delete.DbName = rewrite.DbName;
        }

        if (rewrite.CollectionName is not null)
        {
            delete.CollectionName = rewrite.CollectionName;
        }

        if (rewrite.Timestamp is { } timestamp)
        {
            delete.Base ??= new MsgBase { MsgType = MsgType.Delete };
            delete.Base.Timestamp = timestamp.Value;
            for (var i = 0; i < delete.Timestamps.Count; i++)
            {
                delete.Timestamps[i] = timestamp.Value;
            }
        }

        return delete.ToByteArray();
    }

    /// <summary>DropCollection on a DML channel: target collection id, optionally mapped names and timestamp.</summary>
    public static byte[] RewriteDropCollection(ReadOnlySpan<byte> payload, long targetCollectionId, string? dbName = null, string? collectionName = null, HybridTimestamp? timestamp = null)
    {
        var drop = DropCollectionRequest.Parser.ParseFrom(payload);
        drop.CollectionID = targetCollectionId;
        drop.DbName = dbName ?? drop.DbName;
        drop.CollectionName = collectionName ?? drop.CollectionName;
        if (timestamp is { } ts)
        {
            drop.Base ??= new MsgBase { MsgType = MsgType.DropCollection };
            drop.Base.Timestamp = ts.Value;
        }

        return drop.ToByteArray();
    }

    /// <summary>DropPartition on a DML channel: target collection and partition ids, optionally mapped names and timestamp.</summary>
    public static byte[] RewriteDropPartition(ReadOnlySpan<byte> payload, long targetCollectionId, long targetPartitionId, string? dbName = null, string? collectionName = null, HybridTimestamp? timestamp = null)
    {
        var drop = DropPartitionRequest.Parser.ParseFrom(payload);
        drop.CollectionID = targetCollectionId;
        drop.PartitionID = targetPartitionId;
        drop.DbName = dbName ?? drop.DbName;
        drop.CollectionName = collectionName ?? drop.CollectionName;
        if (timestamp is { } ts)
        {
            drop.Base ??= new MsgBase { MsgType = MsgType.DropPartition };
            drop.Base.Timestamp = ts.Value;
        }

        return drop.ToByteArray();
    }
}
