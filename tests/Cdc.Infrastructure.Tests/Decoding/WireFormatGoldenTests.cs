using Cdc.Infrastructure.Milvus.Protos.Common;
using Cdc.Infrastructure.Milvus.Protos.Etcd;
using Cdc.Infrastructure.Milvus.Protos.Msg;
using Cdc.Infrastructure.Milvus.Protos.Schema;
using Cdc.Infrastructure.Source.Pulsar.Protos;
using Google.Protobuf;
using Rpc = Cdc.Infrastructure.Milvus.Protos.Rpc;

namespace Cdc.Infrastructure.Tests.Decoding;

/// <summary>
/// Expected bytes are hand-computed from the milvus-proto field tables (tag = field number &lt;&lt; 3 | wire type),
/// so a wrong field number or type in our .proto files changes the bytes and fails here.
/// </summary>
public sealed class WireFormatGoldenTests
{
    [Fact]
    public void MsgBase_uses_fields_1_to_3_and_7()
    {
        var msgBase = new MsgBase
        {
            MsgType = MsgType.Insert, // 400 = varint 90 03
            MsgID = 1,
            Timestamp = 2,
            ReplicateInfo = new ReplicateInfo { IsReplicate = true, MsgTimestamp = 5 },
        };

        Assert.Equal("0890031001180" + "23A0408011005", Hex(msgBase));
    }

    [Fact]
    public void MsgBase_source_target_and_properties_are_fields_4_5_6()
    {
        var msgBase = new MsgBase { SourceID = 3, TargetID = 4, Properties = { ["k"] = "v" } };

        // 20 03 | 28 04 | 32 06 (0A 01 'k' 12 01 'v')
        Assert.Equal("200328043206" + "0A016B120176", Hex(msgBase));
    }

    [Fact]
    public void ReplicateInfo_replicateID_is_field_3()
    {
        Assert.Equal("1A03616263", Hex(new ReplicateInfo { ReplicateID = "abc" }));
    }

    [Fact]
    public void InsertRequest_fields_match_the_msg_proto_table()
    {
        var insert = new InsertRequest
        {
            Base = new MsgBase { MsgType = MsgType.Insert },
            ShardName = "v",
            DbName = "d",
            CollectionName = "c",
            PartitionName = "p",
            DbID = 6,
            CollectionID = 7,
            PartitionID = 8,
            SegmentID = 9,
            Timestamps = { 5 },
            RowIDs = { 4 },
            NumRows = 1,
            Version = InsertDataVersion.ColumnBased,
        };
        insert.FieldsData.Add(new FieldData
        {
            Type = DataType.Int64,
            FieldName = "pk",
            FieldId = 100,
            Scalars = new ScalarField { LongData = new LongArray { Data = { 1 } } },
        });

        var expected =
            "0A03089003" +     // 1 base {msg_type=400}
            "120176" +         // 2 shardName "v"
            "1A0164" +         // 3 db_name "d"
            "220163" +         // 4 collection_name "c"
            "2A0170" +         // 5 partition_name "p"
            "3006" +           // 6 dbID
            "3807" +           // 7 collectionID
            "4008" +           // 8 partitionID
            "4809" +           // 9 segmentID
            "520105" +         // 10 timestamps (packed)
            "5A0104" +         // 11 rowIDs (packed)
            "6A0F" +           // 13 fields_data, 15 bytes:
            "0805" +           //    1 type Int64
            "1202706B" +       //    2 field_name "pk"
            "1A051A030A0101" + //    3 scalars {3 long_data {1 data [1]}}
            "2864" +           //    5 field_id 100
            "7001" +           // 14 num_rows
            "7801";            // 15 version ColumnBased
        Assert.Equal(expected, Hex(insert));
    }

    [Fact]
    public void InsertRequest_row_data_blob_is_field_12()
    {
        Assert.Equal("6203" + "0A01FF", Hex(new InsertRequest { RowData = { new Blob { Value = ByteString.CopyFrom(0xFF) } } }));
    }

    [Fact]
    public void DeleteRequest_fields_match_the_msg_proto_table()
    {
        var delete = new DeleteRequest
        {
            ShardName = "v",
            CollectionID = 7,
            PartitionID = 8,
            Int64PrimaryKeys = { 2 },
            Timestamps = { 5 },
            NumRows = 1,
            PrimaryKeys = new IDs { IntId = new LongArray { Data = { 3 } } },
            SegmentId = 9,
        };

        var expected = "120176" + "3807" + "4008" + "4A0102" + "520105" + "5801" + "6205" + "0A030A0103" + "6809";
        Assert.Equal(expected, Hex(delete));
    }

    [Fact]
    public void String_primary_keys_are_IDs_field_2()
    {
        Assert.Equal("1203" + "0A0161", Hex(new IDs { StrId = new StringArray { Data = { "a" } } }));
    }

    [Fact]
    public void Float_vector_column_is_VectorField_2_with_dim_1()
    {
        var field = new FieldData { Type = DataType.FloatVector, Vectors = new VectorField { Dim = 1, FloatVector = new FloatArray { Data = { 1.0f } } } };

        // 1 type 101 | 4 vectors {1 dim 1 | 2 float_vector {1 data [1.0f] packed}}
        Assert.Equal("0865" + "220A" + "0801" + "1206" + "0A040000803F", Hex(field));
    }

    [Fact]
    public void Msgstream_DDL_payloads_match_their_tables()
    {
        Assert.Equal("1A0163" + "2805" + "3001" + "420161" + "4A0162" + "520170" + "5A0103", Hex(new CreateCollectionRequest
        {
            CollectionName = "c",
            DbID = 5,
            CollectionID = 1,
            Schema = ByteString.CopyFromUtf8("a"),
            VirtualChannelNames = { "b" },
            PhysicalChannelNames = { "p" },
            PartitionIDs = { 3 },
        }));
        Assert.Equal("1A0163" + "2005" + "2801", Hex(new DropCollectionRequest { CollectionName = "c", DbID = 5, CollectionID = 1 }));
        Assert.Equal("1A0163" + "220170" + "2805" + "3001" + "3802", Hex(new CreatePartitionRequest { CollectionName = "c", PartitionName = "p", DbID = 5, CollectionID = 1, PartitionID = 2 }));
        Assert.Equal("1A0163" + "220170" + "2805" + "3001" + "3802", Hex(new DropPartitionRequest { CollectionName = "c", PartitionName = "p", DbID = 5, CollectionID = 1, PartitionID = 2 }));
        Assert.Equal("0A03" + "08B009", Hex(new TimeTickMsg { Base = new MsgBase { MsgType = MsgType.TimeTick } }));
        Assert.Equal("0A03" + "08BC09" + "1001" + "1801" + "220164" + "2A0163", Hex(new ReplicateMsg
        {
            Base = new MsgBase { MsgType = MsgType.Replicate },
            IsEnd = true,
            IsCluster = true,
            Database = "d",
            Collection = "c",
        }));
        Assert.Equal("1A0163" + "2001" + "2A0102" + "4803", Hex(new ImportMsg { CollectionName = "c", CollectionID = 1, PartitionIDs = { 2 }, JobID = 3 }));
    }

    [Fact]
    public void MsgPosition_and_ReplicateMessageRequest_match_their_tables()
    {
        var position = new MsgPosition { ChannelName = "c", MsgID = ByteString.CopyFrom(1), MsgGroup = "g", Timestamp = 2 };
        Assert.Equal("0A0163" + "120101" + "1A0167" + "2002", Hex(position));

        var request = new Rpc.ReplicateMessageRequest
        {
            ChannelName = "c",
            BeginTs = 1,
            EndTs = 2,
            Msgs = { ByteString.CopyFrom(9) },
            StartPositions = { new MsgPosition { Timestamp = 1 } },
            EndPositions = { new MsgPosition { Timestamp = 2 } },
        };
        Assert.Equal("120163" + "1801" + "2002" + "2A0109" + "32022001" + "3A022002", Hex(request));
        Assert.Equal("0A021801" + "120170", Hex(new Rpc.ReplicateMessageResponse { Status = new Status { Code = 1 }, Position = "p" }));
    }

    [Fact]
    public void Status_fields_match_the_common_proto_table()
    {
#pragma warning disable CS0612
        var status = new Status { ErrorCode = ErrorCode.UnexpectedError, Reason = "r", Code = 1900, Retriable = true, Detail = "d", ExtraInfo = { ["k"] = "v" } };
#pragma warning restore CS0612

        // 1 error_code | 2 reason | 3 code 1900 = EC 0E | 4 retriable | 5 detail | 6 map entry
        Assert.Equal("0801" + "120172" + "18EC0E" + "2001" + "2A0164" + "3206" + "0A016B120176", Hex(status));
    }

    [Fact]
    public void Rpc_requests_keep_base_1_db_name_2_and_their_own_fields()
    {
        Assert.Equal("0A00" + "120164" + "1A0163" + "220173" + "2802" + "3002" + "3A06" + "0A016B120176" + "4003", Hex(new Rpc.CreateCollectionRequest
        {
            Base = new MsgBase(),
            DbName = "d",
            CollectionName = "c",
            Schema = ByteString.CopyFromUtf8("s"),
            ShardsNum = 2,
            ConsistencyLevel = ConsistencyLevel.Bounded,
            Properties = { new Cdc.Infrastructure.Milvus.Protos.Common.KeyValuePair { Key = "k", Value = "v" } },
            NumPartitions = 3,
        }));
        Assert.Equal("1A0163" + "220166" + "2A06" + "0A016B120176" + "320169", Hex(new Rpc.CreateIndexRequest
        {
            CollectionName = "c",
            FieldName = "f",
            ExtraParams = { new Cdc.Infrastructure.Milvus.Protos.Common.KeyValuePair { Key = "k", Value = "v" } },
            IndexName = "i",
        }));
        Assert.Equal("1A0163" + "220166" + "2A0169", Hex(new Rpc.DropIndexRequest { CollectionName = "c", FieldName = "f", IndexName = "i" }));
        Assert.Equal("1A0163" + "220169" + "320178", Hex(new Rpc.AlterIndexRequest { CollectionName = "c", IndexName = "i", DeleteKeys = { "x" } }));
        Assert.Equal("1A0163" + "2002" + "3001", Hex(new Rpc.LoadCollectionRequest { CollectionName = "c", ReplicaNumber = 2, Refresh = true }));
        Assert.Equal("1A0163" + "220170" + "2802", Hex(new Rpc.LoadPartitionsRequest { CollectionName = "c", PartitionNames = { "p" }, ReplicaNumber = 2 }));
        Assert.Equal("1A0163" + "220170", Hex(new Rpc.ReleasePartitionsRequest { CollectionName = "c", PartitionNames = { "p" } }));
        Assert.Equal("1A0163", Hex(new Rpc.FlushRequest { CollectionNames = { "c" } }));
        Assert.Equal("1A0163" + "2007" + "2801", Hex(new Rpc.DescribeCollectionRequest { CollectionName = "c", CollectionID = 7, TimeStamp = 1 }));
        Assert.Equal("1A0164" + "2A0178", Hex(new Rpc.AlterDatabaseRequest { DbId = "d", DeleteKeys = { "x" } }));
        Assert.Equal("1A06" + "0A016B120176", Hex(new Rpc.CreateDatabaseRequest { Properties = { new Cdc.Infrastructure.Milvus.Protos.Common.KeyValuePair { Key = "k", Value = "v" } } }));
    }

    [Fact]
    public void Rpc_responses_match_their_tables()
    {
        Assert.Equal("1807" + "220176" + "2A0170" + "4002" + "620163" + "720164", Hex(new Rpc.DescribeCollectionResponse
        {
            CollectionID = 7,
            VirtualChannelNames = { "v" },
            PhysicalChannelNames = { "p" },
            ShardsNum = 2,
            CollectionName = "c",
            DbName = "d",
        }));
        Assert.Equal("120170" + "1A0107", Hex(new Rpc.ShowPartitionsResponse { PartitionNames = { "p" }, PartitionIDs = { 7 } }));
        Assert.Equal("120164" + "2201" + "01", Hex(new Rpc.ListDatabasesResponse { DbNames = { "d" }, DbIds = { 1 } }));
        Assert.Equal("1001", Hex(new Rpc.BoolResponse { Value = true }));
        Assert.Equal("3A07" + "0A0176" + "12022001", Hex(new Rpc.FlushResponse { ChannelCps = { ["v"] = new MsgPosition { Timestamp = 1 } } }));
    }

    [Fact]
    public void Schema_messages_match_the_schema_proto_table()
    {
        var field = new FieldSchema
        {
            FieldID = 100,
            Name = "pk",
            IsPrimaryKey = true,
            DataType = DataType.Int64,
            AutoID = true,
            Nullable = true,
            IsFunctionOutput = true,
        };
        Assert.Equal("0864" + "1202706B" + "1801" + "2805" + "4001" + "7801" + "800101", Hex(field));

        var schema = new CollectionSchema { Name = "c", EnableDynamicField = true, DbName = "d" };
        schema.Functions.Add(new FunctionSchema { Type = FunctionType.Bm25 });
        Assert.Equal("0A0163" + "2801" + "3A022001" + "420164", Hex(schema));
    }

    [Fact]
    public void Etcd_meta_messages_match_the_etcd_meta_table()
    {
        var collection = new CollectionInfo
        {
            ID = 1,
            VirtualChannelNames = { "v" },
            PhysicalChannelNames = { "p" },
            ShardsNum = 2,
            StartPositions = { new KeyDataPair { Key = "p", Data = ByteString.CopyFrom(1) } },
            State = CollectionState.CollectionCreating,
            DbId = 3,
            UpdateTimestamp = 4,
        };
        Assert.Equal("0801" + "3A0176" + "420170" + "5002" + "5A06" + "0A0170120101" + "6801" + "7803" + "800104", Hex(collection));
        Assert.Equal("0801" + "120170" + "1803" + "2004" + "2802", Hex(new PartitionInfo
        {
            PartitionID = 1,
            PartitionName = "p",
            PartitionCreatedTimestamp = 3,
            CollectionId = 4,
            State = PartitionState.PartitionDropping,
        }));
        Assert.Equal("0A0174" + "12016E" + "1803" + "2001" + "2805", Hex(new DatabaseInfo
        {
            TenantId = "t",
            Name = "n",
            Id = 3,
            State = DatabaseState.DatabaseCreated,
            CreatedTime = 5,
        }));
    }

    [Fact]
    public void Pulsar_MessageIdData_matches_the_bytes_seen_in_a_real_position()
    {
        var id = new MessageIdData { LedgerId = 1, EntryId = 10009, Partition = 0, BatchIndex = 0 };

        Assert.Equal("080110994E18002000", Hex(id));
    }

    private static string Hex(IMessage message) => Convert.ToHexString(message.ToByteArray());
}
