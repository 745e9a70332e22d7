using Cdc.Application.Replication.Decoding;
using Cdc.Domain.Changes;
using Cdc.Infrastructure.Milvus.Protos.Common;
using Cdc.Infrastructure.Milvus.Protos.Msg;
using Cdc.Infrastructure.Milvus.Protos.Schema;
using Cdc.Infrastructure.MilvusWire;
using Cdc.Infrastructure.Target;
using Google.Protobuf;
using Rpc = Cdc.Infrastructure.Milvus.Protos.Rpc;

namespace Cdc.Infrastructure.Decoding;

/// <summary>
/// Turns one Milvus msgstream message (Kafka/Pulsar payload + properties) into a typed <see cref="SourceChange"/>.
/// The type comes from the "msg_type" property (MsgType name, set by 2.3/2.4 Produce and by every 2.5 send), else
/// from the payload's MsgHeader.base.msg_type (2.3/2.4 broadcasts set no property). Never throws for bad input:
/// corrupt or unsupported messages give a failure naming the channel and position.
/// </summary>
public sealed class MsgStreamDecoder : IChangeDecoder
{
    public const string MsgTypeProperty = "msg_type";
    public const string VirtualChannelProperty = "vchannel";
    public const string TimestampProperty = "timestamp";
    public const string ReplicateIdProperty = "replicate_id";

    public ChangeDecodeResult Decode(SourceMessage message)
    {
        MsgType type;
        string typeName;
        try
        {
            (type, typeName) = ResolveType(message);
        }
        catch (InvalidProtocolBufferException ex)
        {
            return Corrupt(message, "(unknown)", $"payload is not a Milvus message: {ex.Message}");
        }
        catch (InvalidDataException ex)
        {
            return Corrupt(message, "(unknown)", ex.Message);
        }

        try
        {
            return type switch
            {
                MsgType.Insert => Success(DecodeInsert(message)),
                MsgType.Delete => Success(DecodeDelete(message)),
                MsgType.TimeTick => Success(Simple(message, TimeTickMsg.Parser, m => m.Base, (o, p, _) => new TimeTickChange(o, p))),
                MsgType.CreateCollection => Success(Simple(message, CreateCollectionRequest.Parser, m => m.Base, (o, p, m) =>
                    new CreateCollectionChange(o, p, m.DbName, m.CollectionName, m.DbID, m.CollectionID, [.. m.PartitionIDs],
                        [.. m.VirtualChannelNames], [.. m.PhysicalChannelNames], m.Schema.Memory))),
                MsgType.DropCollection => Success(Simple(message, DropCollectionRequest.Parser, m => m.Base, (o, p, m) =>
                    new DropCollectionChange(o, p, m.DbName, m.CollectionName, m.DbID, m.CollectionID))),
                MsgType.CreatePartition => Success(Simple(message, CreatePartitionRequest.Parser, m => m.Base, (o, p, m) =>
                    new CreatePartitionChange(o, p, m.DbName, m.CollectionName, m.PartitionName, m.DbID, m.CollectionID, m.PartitionID))),
                MsgType.DropPartition => Success(Simple(message, DropPartitionRequest.Parser, m => m.Base, (o, p, m) =>
                    new DropPartitionChange(o, p, m.DbName, m.CollectionName, m.PartitionName, m.DbID, m.CollectionID, m.PartitionID))),
                MsgType.CreateIndex => Success(Simple(message, Rpc.CreateIndexRequest.Parser, m => m.Base, (o, p, m) =>
                    new CreateIndexChange(o, p, m.DbName, m.CollectionName, m.FieldName, m.IndexName, KeyValuePairs.ToDictionary(m.ExtraParams)))),
                MsgType.DropIndex => Success(Simple(message, Rpc.DropIndexRequest.Parser, m => m.Base, (o, p, m) =>
                    new DropIndexChange(o, p, m.DbName, m.CollectionName, m.FieldName, m.IndexName))),
                MsgType.AlterIndex => Success(Simple(message, Rpc.AlterIndexRequest.Parser, m => m.Base, (o, p, m) =>
                    new AlterIndexChange(o, p, m.DbName, m.CollectionName, m.IndexName, KeyValuePairs.ToDictionary(m.ExtraParams), [.. m.DeleteKeys]))),
                MsgType.LoadCollection => Success(Simple(message, Rpc.LoadCollectionRequest.Parser, m => m.Base, (o, p, m) =>
                    new LoadCollectionChange(o, p, m.DbName, m.CollectionName, m.ReplicaNumber))),
                MsgType.ReleaseCollection => Success(Simple(message, Rpc.ReleaseCollectionRequest.Parser, m => m.Base, (o, p, m) =>
                    new ReleaseCollectionChange(o, p, m.DbName, m.CollectionName))),
                MsgType.LoadPartitions => Success(Simple(message, Rpc.LoadPartitionsRequest.Parser, m => m.Base, (o, p, m) =>
                    new LoadPartitionsChange(o, p, m.DbName, m.CollectionName, [.. m.PartitionNames], m.ReplicaNumber))),
                MsgType.ReleasePartitions => Success(Simple(message, Rpc.ReleasePartitionsRequest.Parser, m => m.Base, (o, p, m) =>
                    new ReleasePartitionsChange(o, p, m.DbName, m.CollectionName, [.. m.PartitionNames]))),
                MsgType.Flush => Success(Simple(message, Rpc.FlushRequest.Parser, m => m.Base, (o, p, m) =>
                    new FlushChange(o, p, m.DbName, [.. m.CollectionNames]))),
                MsgType.CreateDatabase => Success(Simple(message, Rpc.CreateDatabaseRequest.Parser, m => m.Base, (o, p, m) =>
                    new CreateDatabaseChange(o, p, m.DbName, KeyValuePairs.ToDictionary(m.Properties)))),
                MsgType.DropDatabase => Success(Simple(message, Rpc.DropDatabaseRequest.Parser, m => m.Base, (o, p, m) =>
                    new DropDatabaseChange(o, p, m.DbName))),
                MsgType.AlterDatabase => Success(Simple(message, Rpc.AlterDatabaseRequest.Parser, m => m.Base, (o, p, m) =>
                    new AlterDatabaseChange(o, p, m.DbName, KeyValuePairs.ToDictionary(m.Properties), [.. m.DeleteKeys]))),
                MsgType.Replicate => Success(Simple(message, ReplicateMsg.Parser, m => m.Base, (o, p, m) =>
                    new ReplicateChange(o, p, m.IsEnd, m.IsCluster, m.Database, m.Collection))),
                MsgType.Import => Success(Simple(message, ImportMsg.Parser, m => m.Base, (o, p, m) =>
                    new ImportChange(o, p, m.DbName, m.CollectionName, m.CollectionID, [.. m.PartitionIDs], m.JobID))),
                _ => ChangeDecodeResult.Unsupported(new UndecodableMessage(message.Channel, message.Id, typeName, "message type is not replicated")),
            };
        }
        catch (InvalidProtocolBufferException ex)
        {
            return Corrupt(message, typeName, $"payload is not a valid {typeName} message: {ex.Message}");
        }
        catch (InvalidDataException ex)
        {
            return Corrupt(message, typeName, ex.Message);
        }
    }

    /// <summary>Like <see cref="Decode"/>, but throws <see cref="UndecodableMessageException"/> for any failure.</summary>
    public SourceChange DecodeOrThrow(SourceMessage message)
    {
        var result = Decode(message);
        return result.Change ?? throw new UndecodableMessageException(result.Failure!);
    }

    private static (MsgType Type, string Name) ResolveType(SourceMessage message)
    {
        if (message.Properties.TryGetValue(MsgTypeProperty, out var name)
            && Enum.TryParse<MsgType>(name, ignoreCase: false, out var fromProperty)
            && fromProperty != MsgType.Undefined
            && Enum.IsDefined(fromProperty)
            && !char.IsDigit(name[0])
            && !name.Contains(','))
        {
            return (fromProperty, name);
        }

        var header = MsgHeader.Parser.ParseFrom(message.Payload.Span);
        if (header.Base is null)
        {
            throw new InvalidDataException("payload has no MsgBase (field 1)");
        }

        var type = header.Base.MsgType;
        return (type, Enum.IsDefined(type) ? type.ToString() : ((int)type).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private static InsertChange DecodeInsert(SourceMessage message)
    {
        // Inserts are by far the largest messages: scan the header fields and leave the column data in the payload.
        var insert = InsertPayloadScanner.Scan(message.Payload.Span);
        var origin = Origin(message, insert.Base, insert.ShardName);
        var rows = insert.NumRows > 0 ? (long)insert.NumRows : Math.Max(Math.Max(insert.TimestampCount, insert.RowIdCount), insert.RowDataCount);
        var first = insert.TimestampCount > 0 ? new HybridTimestamp(insert.FirstTimestamp) : origin.Timestamp;
        var last = insert.TimestampCount > 0 ? new HybridTimestamp(insert.LastTimestamp) : origin.Timestamp;
        return new InsertChange(origin, message.Payload, insert.DbName, insert.CollectionName, insert.PartitionName,
            insert.DbId, insert.CollectionId, insert.PartitionId, insert.SegmentId, insert.ShardName, rows, first, last, insert.Columns);
    }

    private static DeleteChange DecodeDelete(SourceMessage message)
    {
        var delete = DeleteRequest.Parser.ParseFrom(message.Payload.Span);
        var origin = Origin(message, delete.Base, delete.ShardName);
        PrimaryKeys keys = delete.PrimaryKeys?.IdFieldCase switch
        {
            IDs.IdFieldOneofCase.IntId => new Int64PrimaryKeys([.. delete.PrimaryKeys.IntId.Data]),
            IDs.IdFieldOneofCase.StrId => new StringPrimaryKeys([.. delete.PrimaryKeys.StrId.Data]),
            _ => new Int64PrimaryKeys([.. delete.Int64PrimaryKeys]),
        };
        var rows = delete.NumRows > 0 ? delete.NumRows : keys.Count;
        return new DeleteChange(origin, message.Payload, delete.DbName, delete.CollectionName, delete.PartitionName,
            delete.DbID, delete.CollectionID, delete.PartitionID, delete.ShardName, rows, keys);
    }

    private static SourceChange Simple<TMessage>(
        SourceMessage message,
        MessageParser<TMessage> parser,
        Func<TMessage, MsgBase?> baseOf,
        Func<ChangeOrigin, ReadOnlyMemory<byte>, TMessage, SourceChange> create)
        where TMessage : IMessage<TMessage>
    {
        var parsed = parser.ParseFrom(message.Payload.Span);
        return create(Origin(message, baseOf(parsed), shardName: null), message.Payload, parsed);
    }

    private static ChangeOrigin Origin(SourceMessage message, MsgBase? msgBase, string? shardName)
    {
        if (msgBase is null)
        {
            throw new InvalidDataException("payload has no MsgBase (field 1)");
        }

        var properties = message.Properties;
        var timestamp = msgBase.Timestamp;
        if (timestamp == 0 && properties.TryGetValue(TimestampProperty, out var text) && ulong.TryParse(text, out var fromProperty))
        {
            timestamp = fromProperty;
        }

        var vchannel = properties.TryGetValue(VirtualChannelProperty, out var v) && v.Length > 0
            ? v
            : string.IsNullOrEmpty(shardName) ? null : shardName;
        var replicateId = msgBase.ReplicateInfo?.ReplicateID is { Length: > 0 } id
            ? id
            : properties.TryGetValue(ReplicateIdProperty, out var r) ? r : "";
        return new ChangeOrigin(message.Channel, message.Id, vchannel, new HybridTimestamp(timestamp),
            msgBase.MsgID, msgBase.SourceID, msgBase.ReplicateInfo?.IsReplicate ?? false, replicateId);
    }

    private static ChangeDecodeResult Success(SourceChange change) => ChangeDecodeResult.Success(change);

    private static ChangeDecodeResult Corrupt(SourceMessage message, string typeName, string reason) =>
        ChangeDecodeResult.Corrupt(new UndecodableMessage(message.Channel, message.Id, typeName, reason));
}
