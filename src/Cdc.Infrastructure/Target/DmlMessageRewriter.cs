using System.Buffers;
using Cdc.Application.Replication.Target;
using Cdc.Domain.Changes;
using Cdc.Infrastructure.Milvus.Protos.Common;
using Cdc.Infrastructure.Milvus.Protos.Msg;
using Cdc.Infrastructure.MilvusWire;
using Google.Protobuf;

namespace Cdc.Infrastructure.Target;

/// <summary>
/// Rewrites Insert and Delete payloads (and the ids of DropCollection / DropPartition) for the target: collectionID, partitionID, shardName, names, base.timestamp and
/// the per-row timestamps. segmentID of an insert is cleared, because the target proxy assigns its own. Fields this
/// code does not know survive unchanged (Google.Protobuf keeps unknown fields).
/// </summary>
public sealed class DmlMessageRewriter : IDmlMessageRewriter
{
    /// <summary>
    /// Fields of an Insert at least this long that the rewrite keeps as they are (a vector column of 1,000 768-dim
    /// rows is 3 MB) are referenced in the source payload instead of copied.
    /// </summary>
    public const int ReferenceThreshold = 16 * 1024;

    public ReadOnlySequence<byte> Rewrite(SourceChange change, DmlRewrite rewrite) => change switch
    {
        InsertChange insert => RewriteInsert(insert.Payload, rewrite),
        DeleteChange delete => new(RewriteDelete(delete.Payload.Span, rewrite)),
        DropCollectionChange drop => new(RewriteDropCollection(drop.Payload.Span, rewrite.TargetCollectionId, rewrite.DbName, rewrite.CollectionName, rewrite.Timestamp)),
        DropPartitionChange drop => new(RewriteDropPartition(drop.Payload.Span, rewrite.TargetCollectionId,
            rewrite.TargetPartitionId ?? throw new ArgumentException("a DropPartition rewrite needs the target partition id", nameof(rewrite)),
            rewrite.DbName, rewrite.CollectionName, rewrite.Timestamp)),
        _ => throw new NotSupportedException($"{change.Kind} is not forwarded through ReplicateMessage"),
    };

    /// <summary>
    /// Rewrites an InsertRequest without decoding its rows: the top-level fields the target needs changed (base's
    /// timestamp, shardName, db_name, collection_name, collectionID, partitionID, segmentID, timestamps) are written
    /// anew, every other field (rowIDs, row_data, fields_data, num_rows, version, ...) is kept byte for byte: copied,
    /// or from <see cref="ReferenceThreshold"/> bytes on referenced in <paramref name="payload"/>. A full parse would
    /// decode every float of the vectors, and re-encode them, for nothing.
    /// </summary>
    public static ReadOnlySequence<byte> RewriteInsert(ReadOnlyMemory<byte> payload, DmlRewrite rewrite)
    {
        var output = new ProtobufSpanWriter(Math.Min(payload.Length + 128, 2 * ReferenceThreshold));
        var reader = new ProtobufSpanReader(payload.Span);
        bool wroteBase = false, wroteDb = false, wroteName = false, wroteShard = false, wroteCollection = false, wrotePartition = false;
        while (!reader.AtEnd)
        {
            var start = reader.Position;
            var (field, wireType) = reader.ReadTag();
            switch (field)
            {
                case 1 when wireType == ProtobufSpanReader.LengthDelimited:
                    var msgBase = MsgBase.Parser.ParseFrom(reader.ReadLengthDelimited());
                    if (rewrite.Timestamp is { } baseTs) msgBase.Timestamp = baseTs.Value;
                    output.WriteMessage(1, msgBase);
                    wroteBase = true;
                    break;
                // Replaced where they stand (once), so the message keeps its layout, unknown fields included.
                case 2:
                    reader.Skip(wireType);
                    if (!wroteShard) output.WriteString(2, rewrite.TargetShardName);
                    wroteShard = true;
                    break;
                case 7:
                    reader.Skip(wireType);
                    if (!wroteCollection) output.WriteInt64(7, rewrite.TargetCollectionId);
                    wroteCollection = true;
                    break;
                case 9:
                    reader.Skip(wireType); // segmentID: the target allocates its own
                    break;
                case 3 when rewrite.DbName is not null:
                    reader.Skip(wireType);
                    output.WriteString(3, rewrite.DbName);
                    wroteDb = true;
                    break;
                case 4 when rewrite.CollectionName is not null:
                    reader.Skip(wireType);
                    output.WriteString(4, rewrite.CollectionName);
                    wroteName = true;
                    break;
                case 8 when rewrite.TargetPartitionId is { } targetPartition:
                    reader.Skip(wireType);
                    if (!wrotePartition) output.WriteInt64(8, targetPartition);
                    wrotePartition = true;
                    break;
                case 10 when rewrite.Timestamp is { } rowTs:
                    // One hybrid timestamp per row, all set to the pack's: only their number matters.
                    var count = wireType == ProtobufSpanReader.LengthDelimited
                        ? ProtobufSpanReader.CountPackedVarints(reader.ReadLengthDelimited(), out _, out _)
                        : CountOne(ref reader, wireType);
                    output.WritePackedRepeated(10, rowTs.Value, count);
                    break;
                default:
                    reader.Skip(wireType);
                    if (reader.Position - start >= ReferenceThreshold)
                    {
                        output.WriteReferenced(payload[start..reader.Position]);
                    }
                    else
                    {
                        output.WriteRaw(payload.Span[start..reader.Position]);
                    }

                    break;
            }
        }

        if (!wroteBase && rewrite.Timestamp is { } timestamp)
            output.WriteMessage(1, new MsgBase { MsgType = MsgType.Insert, Timestamp = timestamp.Value });
        if (rewrite.DbName is not null && !wroteDb) output.WriteString(3, rewrite.DbName);
        if (rewrite.CollectionName is not null && !wroteName) output.WriteString(4, rewrite.CollectionName);
        if (!wroteShard) output.WriteString(2, rewrite.TargetShardName);
        if (!wroteCollection) output.WriteInt64(7, rewrite.TargetCollectionId);
        if (rewrite.TargetPartitionId is { } partition && !wrotePartition) output.WriteInt64(8, partition);
        return output.Written;
    }

    /// <summary>An unpacked repeated varint element: skipped, counted as one.</summary>
    private static int CountOne(ref ProtobufSpanReader reader, int wireType)
    {
        reader.Skip(wireType);
        return 1;
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
