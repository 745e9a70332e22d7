using Cdc.Domain.Changes;
using Cdc.Infrastructure.Decoding;
using Cdc.Infrastructure.Milvus.Protos.Common;
using Cdc.Infrastructure.Milvus.Protos.Msg;
using Google.Protobuf;
using Rpc = Cdc.Infrastructure.Milvus.Protos.Rpc;
using static Cdc.Testing.Milvus.MilvusMessages;

namespace Cdc.Infrastructure.Tests.Decoding;

public sealed class MsgStreamDecoderTests
{
    private readonly MsgStreamDecoder _decoder = new();

    /// <summary>Every operation the replicator handles, as Milvus writes it, with the MsgType name it goes by.</summary>
    public static TheoryData<string, ChangeKind> SeedOperations() => new()
    {
        { "Insert", ChangeKind.Insert },
        { "Delete", ChangeKind.Delete },
        { "TimeTick", ChangeKind.TimeTick },
        { "CreateCollection", ChangeKind.CreateCollection },
        { "DropCollection", ChangeKind.DropCollection },
        { "CreatePartition", ChangeKind.CreatePartition },
        { "DropPartition", ChangeKind.DropPartition },
        { "CreateIndex", ChangeKind.CreateIndex },
        { "DropIndex", ChangeKind.DropIndex },
        { "AlterIndex", ChangeKind.AlterIndex },
        { "LoadCollection", ChangeKind.LoadCollection },
        { "ReleaseCollection", ChangeKind.ReleaseCollection },
        { "LoadPartitions", ChangeKind.LoadPartitions },
        { "ReleasePartitions", ChangeKind.ReleasePartitions },
        { "Flush", ChangeKind.Flush },
        { "CreateDatabase", ChangeKind.CreateDatabase },
        { "DropDatabase", ChangeKind.DropDatabase },
        { "AlterDatabase", ChangeKind.AlterDatabase },
        { "Replicate", ChangeKind.Replicate },
        { "Import", ChangeKind.Import },
    };

    private static IMessage Payload(string type) => type switch
    {
        "Insert" => Insert(445, "by-dev-rootcoord-dml_0_445v0", [1, 2, 3]),
        "Delete" => Delete(445, "by-dev-rootcoord-dml_0_445v0", [2]),
        "TimeTick" => new TimeTickMsg { Base = Base(MsgType.TimeTick) },
        "CreateCollection" => new CreateCollectionRequest
        {
            Base = Base(MsgType.CreateCollection),
            DbName = "default",
            CollectionName = "books",
            DbID = 1,
            CollectionID = 445,
            Schema = Schema("books").ToByteString(),
            VirtualChannelNames = { "by-dev-rootcoord-dml_0_445v0", "by-dev-rootcoord-dml_1_445v1" },
            PhysicalChannelNames = { "by-dev-rootcoord-dml_0", "by-dev-rootcoord-dml_1" },
            PartitionIDs = { 446 },
        },
        "DropCollection" => new DropCollectionRequest { Base = Base(MsgType.DropCollection), DbName = "default", CollectionName = "books", DbID = 1, CollectionID = 445 },
        "CreatePartition" => new CreatePartitionRequest { Base = Base(MsgType.CreatePartition), DbName = "default", CollectionName = "books", PartitionName = "p1", DbID = 1, CollectionID = 445, PartitionID = 447 },
        "DropPartition" => new DropPartitionRequest { Base = Base(MsgType.DropPartition), DbName = "default", CollectionName = "books", PartitionName = "p1", DbID = 1, CollectionID = 445, PartitionID = 447 },
        "CreateIndex" => new Rpc.CreateIndexRequest
        {
            Base = Base(MsgType.CreateIndex),
            DbName = "default",
            CollectionName = "books",
            FieldName = "vec",
            IndexName = "vec_idx",
            ExtraParams = { new Cdc.Infrastructure.Milvus.Protos.Common.KeyValuePair { Key = "index_type", Value = "HNSW" } },
        },
        "DropIndex" => new Rpc.DropIndexRequest { Base = Base(MsgType.DropIndex), DbName = "default", CollectionName = "books", FieldName = "vec", IndexName = "vec_idx" },
        "AlterIndex" => new Rpc.AlterIndexRequest { Base = Base(MsgType.AlterIndex), DbName = "default", CollectionName = "books", IndexName = "vec_idx", DeleteKeys = { "mmap.enabled" } },
        "LoadCollection" => new Rpc.LoadCollectionRequest { Base = Base(MsgType.LoadCollection), DbName = "default", CollectionName = "books", ReplicaNumber = 2 },
        "ReleaseCollection" => new Rpc.ReleaseCollectionRequest { Base = Base(MsgType.ReleaseCollection), DbName = "default", CollectionName = "books" },
        "LoadPartitions" => new Rpc.LoadPartitionsRequest { Base = Base(MsgType.LoadPartitions), DbName = "default", CollectionName = "books", PartitionNames = { "p1" }, ReplicaNumber = 1 },
        "ReleasePartitions" => new Rpc.ReleasePartitionsRequest { Base = Base(MsgType.ReleasePartitions), DbName = "default", CollectionName = "books", PartitionNames = { "p1" } },
        "Flush" => new Rpc.FlushRequest { Base = Base(MsgType.Flush), DbName = "default", CollectionNames = { "books" } },
        "CreateDatabase" => new Rpc.CreateDatabaseRequest { Base = Base(MsgType.CreateDatabase), DbName = "sales", Properties = { new Cdc.Infrastructure.Milvus.Protos.Common.KeyValuePair { Key = "database.replica.number", Value = "1" } } },
        "DropDatabase" => new Rpc.DropDatabaseRequest { Base = Base(MsgType.DropDatabase), DbName = "sales" },
        "AlterDatabase" => new Rpc.AlterDatabaseRequest { Base = Base(MsgType.AlterDatabase), DbName = "sales", DeleteKeys = { "x" } },
        "Replicate" => new ReplicateMsg { Base = Base(MsgType.Replicate), IsEnd = true, Database = "default", Collection = "books" },
        "Import" => new ImportMsg { Base = Base(MsgType.Import), DbName = "default", CollectionName = "books", CollectionID = 445, PartitionIDs = { 446 }, JobID = 12 },
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    [Theory]
    [MemberData(nameof(SeedOperations))]
    public void Milvus_2_3_broadcast_without_properties_is_typed_from_the_MsgHeader(string type, ChangeKind kind)
    {
        var result = _decoder.Decode(Message(Payload(type)));

        Assert.True(result.IsSuccess, result.Failure?.ToString());
        Assert.Equal(kind, result.Change!.Kind);
        Assert.Equal(Ts, result.Change.Timestamp);
        Assert.Equal("by-dev-rootcoord-dml_0", result.Change.Origin.Channel);
        Assert.Equal(new KafkaOffset(42), result.Change.Origin.Id);
    }

    [Theory]
    [MemberData(nameof(SeedOperations))]
    public void Milvus_2_5_properties_type_the_message_and_give_vchannel_and_replicate_id(string type, ChangeKind kind)
    {
        var properties = new Dictionary<string, string>
        {
            ["vchannel"] = "by-dev-rootcoord-dml_0_445v0",
            ["msg_type"] = type,
            ["timestamp"] = Ts.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["replicate_id"] = "cluster-a",
        };

        var change = _decoder.DecodeOrThrow(Message(Payload(type), properties));

        Assert.Equal(kind, change.Kind);
        Assert.Equal("by-dev-rootcoord-dml_0_445v0", change.Origin.VirtualChannel);
        Assert.Equal("cluster-a", change.Origin.ReplicateId);
        Assert.Equal(Payload(type).ToByteArray(), change.Payload.ToArray());
    }

    [Fact]
    public void Msg_type_property_wins_over_the_header_as_in_Milvus_2_4_produce()
    {
        // A payload whose base says TimeTick, but the producer labelled it Delete: the property is what Milvus trusts.
        var payload = Delete(445, "v0", [7]);
        payload.Base.MsgType = MsgType.TimeTick;

        var change = _decoder.DecodeOrThrow(Message(payload, new Dictionary<string, string> { ["msg_type"] = "Delete" }));

        Assert.IsType<DeleteChange>(change);
    }

    [Fact]
    public void Unknown_msg_type_property_falls_back_to_the_header()
    {
        var change = _decoder.DecodeOrThrow(Message(Delete(445, "v0", [7]), new Dictionary<string, string> { ["msg_type"] = "NotAType" }));

        Assert.IsType<DeleteChange>(change);
    }

    [Fact]
    public void Insert_change_carries_ids_names_shard_rows_timestamps_and_columns()
    {
        var insert = Insert(445, "by-dev-rootcoord-dml_0_445v0", [10, 11, 12], partitionId: 446);
        insert.Timestamps[2] = Ts.Value + 5;

        var change = Assert.IsType<InsertChange>(_decoder.DecodeOrThrow(Message(insert, new Dictionary<string, string> { ["msg_type"] = "Insert" })));

        Assert.Equal(("default", "books", "_default"), (change.DbName, change.CollectionName, change.PartitionName));
        Assert.Equal((1L, 445L, 446L, 4242L), (change.DbId, change.CollectionId, change.PartitionId, change.SegmentId));
        Assert.Equal("by-dev-rootcoord-dml_0_445v0", change.ShardName);
        Assert.Equal("by-dev-rootcoord-dml_0_445v0", change.Origin.VirtualChannel);
        Assert.Equal(3, change.RowCount);
        Assert.Equal(Ts, change.FirstRowTimestamp);
        Assert.Equal(new HybridTimestamp(Ts.Value + 5), change.LastRowTimestamp);
        Assert.Equal(["pk", "vec"], change.Columns.Select(c => c.Name));
        Assert.Equal(["Int64", "FloatVector"], change.Columns.Select(c => c.DataType));
        Assert.Equal(77, change.Origin.MsgId);
    }

    [Fact]
    public void Delete_change_carries_int64_and_string_primary_keys()
    {
        var change = Assert.IsType<DeleteChange>(_decoder.DecodeOrThrow(Message(Delete(445, "v0", [5, 6]))));
        Assert.Equal([5L, 6L], Assert.IsType<Int64PrimaryKeys>(change.PrimaryKeys).Keys);
        Assert.Equal(2, change.RowCount);

        var stringDelete = Delete(445, "v0", []);
        stringDelete.PrimaryKeys = new Cdc.Infrastructure.Milvus.Protos.Schema.IDs { StrId = new Cdc.Infrastructure.Milvus.Protos.Schema.StringArray { Data = { "a", "b" } } };
        stringDelete.NumRows = 0;
        var stringChange = Assert.IsType<DeleteChange>(_decoder.DecodeOrThrow(Message(stringDelete)));
        Assert.Equal(["a", "b"], Assert.IsType<StringPrimaryKeys>(stringChange.PrimaryKeys).Keys);
        Assert.Equal(2, stringChange.RowCount);
    }

    [Fact]
    public void Legacy_delete_keys_in_field_9_are_used_when_primary_keys_is_absent()
    {
        var delete = new DeleteRequest { Base = Base(MsgType.Delete), CollectionID = 1, Int64PrimaryKeys = { 8, 9 } };

        var change = Assert.IsType<DeleteChange>(_decoder.DecodeOrThrow(Message(delete)));

        Assert.Equal([8L, 9L], Assert.IsType<Int64PrimaryKeys>(change.PrimaryKeys).Keys);
    }

    [Fact]
    public void DDL_changes_carry_their_fields()
    {
        var create = Assert.IsType<CreateCollectionChange>(_decoder.DecodeOrThrow(Message(Payload("CreateCollection"))));
        Assert.Equal(445, create.CollectionId);
        Assert.Equal(["by-dev-rootcoord-dml_0_445v0", "by-dev-rootcoord-dml_1_445v1"], create.VirtualChannels);
        Assert.Equal("books", Cdc.Infrastructure.Milvus.Protos.Schema.CollectionSchema.Parser.ParseFrom(create.Schema.Span).Name);

        var partition = Assert.IsType<DropPartitionChange>(_decoder.DecodeOrThrow(Message(Payload("DropPartition"))));
        Assert.Equal(("books", "p1", 445L, 447L), (partition.CollectionName, partition.PartitionName, partition.CollectionId, partition.PartitionId));

        var index = Assert.IsType<CreateIndexChange>(_decoder.DecodeOrThrow(Message(Payload("CreateIndex"))));
        Assert.Equal(("vec", "vec_idx", "HNSW"), (index.FieldName, index.IndexName, index.Parameters["index_type"]));

        var load = Assert.IsType<LoadPartitionsChange>(_decoder.DecodeOrThrow(Message(Payload("LoadPartitions"))));
        Assert.Equal(["p1"], load.PartitionNames);

        var flush = Assert.IsType<FlushChange>(_decoder.DecodeOrThrow(Message(Payload("Flush"))));
        Assert.Equal(["books"], flush.CollectionNames);

        var db = Assert.IsType<CreateDatabaseChange>(_decoder.DecodeOrThrow(Message(Payload("CreateDatabase"))));
        Assert.Equal(("sales", "1"), (db.DbName, db.Properties["database.replica.number"]));
    }

    [Fact]
    public void Replicated_messages_report_the_replicate_info()
    {
        var payload = new TimeTickMsg { Base = Base(MsgType.TimeTick) };
        payload.Base.ReplicateInfo = new ReplicateInfo { IsReplicate = true, MsgTimestamp = 5, ReplicateID = "r1" };

        var change = _decoder.DecodeOrThrow(Message(payload));

        Assert.True(change.Origin.IsReplicated);
        Assert.Equal("r1", change.Origin.ReplicateId);
    }

    [Fact]
    public void Corrupt_payload_is_a_failure_naming_channel_and_position()
    {
        var message = new SourceMessage("by-dev-rootcoord-dml_3", new KafkaOffset(1234), new Dictionary<string, string>(), new byte[] { 0x0A, 0x05, 0x08 });

        var result = _decoder.Decode(message);

        Assert.False(result.IsSuccess);
        Assert.False(result.IsUnsupported);
        Assert.Equal("by-dev-rootcoord-dml_3", result.Failure!.Channel);
        Assert.Equal(new KafkaOffset(1234), result.Failure.Id);
        Assert.Contains("by-dev-rootcoord-dml_3", result.Failure.ToString());
        Assert.Contains("kafka offset 1234", result.Failure.ToString());
    }

    [Fact]
    public void Truncated_insert_labelled_by_property_is_a_failure_not_an_exception()
    {
        var bytes = Insert(445, "v0", [1, 2, 3]).ToByteArray();
        var message = new SourceMessage("by-dev-rootcoord-dml_0", new PulsarMessageId(7, 9, 0, -1),
            new Dictionary<string, string> { ["msg_type"] = "Insert" }, bytes.AsMemory(0, bytes.Length - 3));

        var result = _decoder.Decode(message);

        Assert.Equal("Insert", result.Failure!.MsgType);
        Assert.Contains("pulsar 7:9:0:-1", result.Failure.ToString());
        var thrown = Assert.Throws<UndecodableMessageException>(() => _decoder.DecodeOrThrow(message));
        Assert.Equal(result.Failure, thrown.Failure);
    }

    [Fact]
    public void Payload_without_MsgBase_is_a_failure()
    {
        var message = new SourceMessage("ch", new KafkaOffset(5), new Dictionary<string, string>(), new Rpc.FlushRequest { DbName = "x" }.ToByteArray());

        var result = _decoder.Decode(message);

        Assert.Contains("MsgBase", result.Failure!.Reason);
    }

    [Fact]
    public void Message_types_that_are_not_replicated_are_reported_as_unsupported()
    {
        var result = _decoder.Decode(Message(new DataNodeTtLike { Base = Base(MsgType.DataNodeTt) }.Message));

        Assert.True(result.IsUnsupported);
        Assert.Equal("DataNodeTt", result.Failure!.MsgType);
    }

    [Fact]
    public void Empty_payload_is_a_failure()
    {
        var result = _decoder.Decode(new SourceMessage("ch", new KafkaOffset(0), new Dictionary<string, string>(), ReadOnlyMemory<byte>.Empty));

        Assert.False(result.IsSuccess);
    }

    /// <summary>Any message with only a base: enough to carry a MsgType we do not model.</summary>
    private sealed class DataNodeTtLike
    {
        public MsgBase Base { get; init; } = new();

        public IMessage Message => new MsgHeader { Base = Base };
    }
}
