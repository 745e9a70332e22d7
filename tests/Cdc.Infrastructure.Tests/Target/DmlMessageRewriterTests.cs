using System.Buffers;
using Cdc.Application.Replication.Decoding;
using Cdc.Application.Replication.Target;
using Cdc.Domain.Changes;
using Cdc.Infrastructure.Decoding;
using Cdc.Infrastructure.Milvus.Protos.Msg;
using Cdc.Infrastructure.Target;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using static Cdc.Testing.Milvus.MilvusMessages;

namespace Cdc.Infrastructure.Tests.Target;

public sealed class DmlMessageRewriterTests
{
    [Fact]
    public void A_large_vector_column_is_referenced_in_the_source_payload_and_the_result_still_parses_as_rewritten()
    {
        // 1,000 rows of 128-dim vectors: a 512 KB column, well above the reference threshold.
        var keys = Enumerable.Range(0, 1_000).Select(k => (long)k).ToList();
        var source = Insert(445, "by-dev-rootcoord-dml_0_445v0", keys, dim: 128, partitionId: 446);
        var payload = source.ToByteArray();
        var newTs = HybridTimestamp.FromParts(1_800_000_000_000, 2);

        var rewritten = DmlMessageRewriter.RewriteInsert(payload,
            new DmlRewrite(900, "target-rootcoord-dml_5_900v0", TargetPartitionId: 901, Timestamp: newTs));

        var segments = new List<ReadOnlyMemory<byte>>();
        foreach (var segment in rewritten)
        {
            segments.Add(segment);
        }

        var referenced = segments.Where(m => System.Runtime.InteropServices.MemoryMarshal.TryGetArray(m, out var array) && ReferenceEquals(array.Array, payload)).ToList();
        Assert.True(referenced.Sum(m => m.Length) > 512_000, $"{referenced.Sum(m => m.Length)} bytes referenced in {segments.Count} segments");
        Assert.True(rewritten.Length - referenced.Sum(m => m.Length) < 64 * 1024, "only the fields that change, and small ones, are copied");

        var expected = source.Clone();
        expected.CollectionID = 900;
        expected.PartitionID = 901;
        expected.ShardName = "target-rootcoord-dml_5_900v0";
        expected.SegmentID = 0;
        expected.Base.Timestamp = newTs.Value;
        for (var i = 0; i < expected.Timestamps.Count; i++)
        {
            expected.Timestamps[i] = newTs.Value;
        }

        Assert.Equal(expected, InsertRequest.Parser.ParseFrom(rewritten));
    }

    [Fact]
    public void Insert_gets_target_ids_shard_names_and_one_new_timestamp_for_all_rows()
    {
        var source = Insert(445, "by-dev-rootcoord-dml_0_445v0", [1, 2, 3], partitionId: 446);
        var newTs = HybridTimestamp.FromParts(1_800_000_000_000, 2);

        var bytes = DmlMessageRewriter.RewriteInsert(source.ToByteArray(),
            new DmlRewrite(900, "target-rootcoord-dml_5_900v0", TargetPartitionId: 901, DbName: "db2", CollectionName: "books2", Timestamp: newTs));
        var rewritten = InsertRequest.Parser.ParseFrom(bytes);

        Assert.Equal((900L, 901L), (rewritten.CollectionID, rewritten.PartitionID));
        Assert.Equal("target-rootcoord-dml_5_900v0", rewritten.ShardName);
        Assert.Equal(("db2", "books2"), (rewritten.DbName, rewritten.CollectionName));
        Assert.Equal(0, rewritten.SegmentID);
        Assert.Equal(newTs.Value, rewritten.Base.Timestamp);
        Assert.All(rewritten.Timestamps, ts => Assert.Equal(newTs.Value, ts));
        Assert.Equal(source.FieldsData, rewritten.FieldsData);
        Assert.Equal(source.RowIDs, rewritten.RowIDs);
    }

    [Fact]
    public void Insert_without_optional_rewrites_keeps_names_partition_and_timestamps()
    {
        var source = Insert(445, "v0", [1], partitionId: 446);

        var rewritten = InsertRequest.Parser.ParseFrom(DmlMessageRewriter.RewriteInsert(source.ToByteArray(), new DmlRewrite(900, "t_v0")).ToArray());

        Assert.Equal(446, rewritten.PartitionID);
        Assert.Equal("books", rewritten.CollectionName);
        Assert.Equal(source.Timestamps, rewritten.Timestamps);
        Assert.Equal(source.Base.Timestamp, rewritten.Base.Timestamp);
    }

    [Fact]
    public void Delete_partition_is_remapped_only_when_it_names_a_partition()
    {
        var allPartitions = Delete(445, "v0", [1, 2]);
        allPartitions.PartitionID = 446;
        var newTs = HybridTimestamp.FromParts(1_800_000_000_000);

        var rewritten = DeleteRequest.Parser.ParseFrom(DmlMessageRewriter.RewriteDelete(allPartitions.ToByteArray(),
            new DmlRewrite(900, "t_v0", TargetPartitionId: 901, Timestamp: newTs)));

        Assert.Equal(900, rewritten.CollectionID);
        Assert.Equal(446, rewritten.PartitionID);
        Assert.Equal("t_v0", rewritten.ShardName);
        Assert.All(rewritten.Timestamps, ts => Assert.Equal(newTs.Value, ts));
        Assert.Equal(new long[] { 1, 2 }, rewritten.PrimaryKeys.IntId.Data);

        var named = Delete(445, "v0", [1]);
        named.PartitionName = "p1";
        var namedRewritten = DeleteRequest.Parser.ParseFrom(DmlMessageRewriter.RewriteDelete(named.ToByteArray(), new DmlRewrite(900, "t_v0", TargetPartitionId: 901)));
        Assert.Equal(901, namedRewritten.PartitionID);
    }

    [Fact]
    public void Corrupt_payload_is_rejected_with_a_protobuf_error()
    {
        var error = Assert.ThrowsAny<Exception>(() => DmlMessageRewriter.RewriteInsert(new byte[] { 0x0A, 0x09, 0x01 }, new DmlRewrite(1, "v")));
        Assert.True(error is InvalidDataException or InvalidProtocolBufferException, error.ToString());
        Assert.Throws<InvalidProtocolBufferException>(() => DmlMessageRewriter.RewriteDelete(new byte[] { 0x0A, 0x09, 0x01 }, new DmlRewrite(1, "v")));
    }

    public static TheoryData<string> InsertShapes => ["plain", "no base", "no partition", "unpacked timestamps", "names", "everything"];

    /// <summary>
    /// The span-level insert rewrite gives the message a full parse-change-serialize would: same fields, same rows,
    /// same vectors (checked against Google.Protobuf's own parse of both).
    /// </summary>
    [Theory]
    [MemberData(nameof(InsertShapes))]
    public void The_insert_rewrite_equals_a_full_parse_and_change(string shape)
    {
        var source = Insert(445, "by-dev-rootcoord-dml_0_445v0", [1, 2, 3, 40_000_000_000], partitionId: shape == "no partition" ? 0 : 446);
        if (shape == "no base") source.Base = null;
        var bytes = source.ToByteArray();
        if (shape == "unpacked timestamps")
        {
            // field 10 written as one varint per element, which parsers must accept too
            var withoutTimestamps = source.Clone();
            withoutTimestamps.Timestamps.Clear();
            using var stream = new MemoryStream();
            withoutTimestamps.WriteTo(stream);
            var output = new CodedOutputStream(stream);
            foreach (var ts in source.Timestamps) { output.WriteTag(10, WireFormat.WireType.Varint); output.WriteUInt64(ts); }
            output.Flush();
            bytes = stream.ToArray();
        }

        var rewrite = shape switch
        {
            "names" => new DmlRewrite(900, "t_v0", DbName: "db2", CollectionName: "books2"),
            "everything" or "unpacked timestamps" or "no base" => new DmlRewrite(900, "t_v0", 901, "db2", "books2", HybridTimestamp.FromParts(1_800_000_000_000, 7)),
            _ => new DmlRewrite(900, "t_v0", TargetPartitionId: 901),
        };

        var expected = InsertRequest.Parser.ParseFrom(bytes);
        expected.CollectionID = rewrite.TargetCollectionId;
        expected.ShardName = rewrite.TargetShardName;
        expected.SegmentID = 0;
        if (rewrite.TargetPartitionId is { } partition) expected.PartitionID = partition;
        if (rewrite.DbName is { } db) expected.DbName = db;
        if (rewrite.CollectionName is { } name) expected.CollectionName = name;
        if (rewrite.Timestamp is { } timestamp)
        {
            expected.Base ??= new Cdc.Infrastructure.Milvus.Protos.Common.MsgBase { MsgType = Cdc.Infrastructure.Milvus.Protos.Common.MsgType.Insert };
            expected.Base.Timestamp = timestamp.Value;
            for (var i = 0; i < expected.Timestamps.Count; i++) expected.Timestamps[i] = timestamp.Value;
        }

        Assert.Equal(expected, InsertRequest.Parser.ParseFrom(DmlMessageRewriter.RewriteInsert(bytes, rewrite).ToArray()));
    }

    [Fact]
    public void Drop_collection_and_drop_partition_get_target_ids()
    {
        var dropCollection = new DropCollectionRequest { Base = Base(Cdc.Infrastructure.Milvus.Protos.Common.MsgType.DropCollection), CollectionName = "books", CollectionID = 445, DbID = 1 };
        var dropPartition = new DropPartitionRequest { Base = Base(Cdc.Infrastructure.Milvus.Protos.Common.MsgType.DropPartition), CollectionName = "books", PartitionName = "p1", CollectionID = 445, PartitionID = 446 };
        var ts = HybridTimestamp.FromParts(1_800_000_000_000);

        var collection = DropCollectionRequest.Parser.ParseFrom(DmlMessageRewriter.RewriteDropCollection(dropCollection.ToByteArray(), 900, collectionName: "books2", timestamp: ts));
        var partition = DropPartitionRequest.Parser.ParseFrom(DmlMessageRewriter.RewriteDropPartition(dropPartition.ToByteArray(), 900, 901));

        Assert.Equal((900L, "books2", ts.Value, 1L), (collection.CollectionID, collection.CollectionName, collection.Base.Timestamp, collection.DbID));
        Assert.Equal((900L, 901L, "p1", Ts.Value), (partition.CollectionID, partition.PartitionID, partition.PartitionName, partition.Base.Timestamp));
    }

    [Fact]
    public void Port_rewrites_a_decoded_change_by_its_kind_and_refuses_non_DML_changes()
    {
        IChangeDecoder decoder = new MsgStreamDecoder();
        IDmlMessageRewriter rewriter = new DmlMessageRewriter();
        var insert = decoder.Decode(Message(Insert(445, "v0", [1, 2]))).Change!;
        var tick = decoder.Decode(Message(new TimeTickMsg { Base = Base(Cdc.Infrastructure.Milvus.Protos.Common.MsgType.TimeTick) })).Change!;

        var rewritten = InsertRequest.Parser.ParseFrom(rewriter.Rewrite(insert, new DmlRewrite(900, "t_v0")).ToArray());

        Assert.Equal((900L, "t_v0"), (rewritten.CollectionID, rewritten.ShardName));
        Assert.Throws<NotSupportedException>(() => rewriter.Rewrite(tick, new DmlRewrite(900, "t_v0")));
    }
}
