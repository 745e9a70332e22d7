using Cdc.Domain.Changes;
using Cdc.Infrastructure.Decoding;
using Cdc.Infrastructure.Milvus.Protos.Common;
using Cdc.Infrastructure.Milvus.Protos.Msg;
using Cdc.Infrastructure.Milvus.Protos.Schema;
using Google.Protobuf;
using static Cdc.Testing.Milvus.MilvusMessages;

namespace Cdc.Infrastructure.Tests.Decoding;

/// <summary>The decoder scans inserts without a full parse; it must agree with Google.Protobuf's full parse.</summary>
public sealed class InsertPayloadScannerTests
{
    private readonly MsgStreamDecoder _decoder = new();

    private InsertChange DecodeInsert(byte[] payload) =>
        Assert.IsType<InsertChange>(_decoder.DecodeOrThrow(new SourceMessage("ch", new KafkaOffset(1),
            new Dictionary<string, string> { ["msg_type"] = "Insert" }, payload)));

    [Fact]
    public void Agrees_with_the_full_parse_on_a_columnar_insert()
    {
        var insert = Insert(445, "v0", [1, 2, 3, 4], dim: 8, partitionId: 446);
        insert.Timestamps[0] = 11;
        insert.Timestamps[3] = 99;
        insert.FieldsData.Add(new FieldData { Type = DataType.Json, FieldName = "$meta", FieldId = 102, IsDynamic = true, Scalars = new ScalarField { JsonData = new JSONArray() } });
        var full = InsertRequest.Parser.ParseFrom(insert.ToByteArray());

        var change = DecodeInsert(insert.ToByteArray());

        Assert.Equal((full.DbName, full.CollectionName, full.PartitionName, full.ShardName), (change.DbName, change.CollectionName, change.PartitionName, change.ShardName));
        Assert.Equal((full.DbID, full.CollectionID, full.PartitionID, full.SegmentID), (change.DbId, change.CollectionId, change.PartitionId, change.SegmentId));
        Assert.Equal((long)full.NumRows, change.RowCount);
        Assert.Equal((11UL, 99UL), (change.FirstRowTimestamp.Value, change.LastRowTimestamp.Value));
        Assert.Equal(full.Base.Timestamp, change.Timestamp.Value);
        Assert.Equal(
            full.FieldsData.Select(f => new InsertColumn(f.FieldId, f.FieldName, f.Type.ToString(), f.IsDynamic)),
            change.Columns);
    }

    [Fact]
    public void Legacy_row_based_insert_without_num_rows_counts_rows_and_reads_unpacked_timestamps()
    {
        // base, then timestamps written unpacked (tag 0x50 per value), two row_data blobs, no num_rows.
        var baseBytes = new MsgBase { MsgType = MsgType.Insert, Timestamp = 5 }.ToByteArray();
        var payload = new byte[] { 0x0A, (byte)baseBytes.Length }.Concat(baseBytes)
            .Concat(new byte[] { 0x50, 0x07, 0x50, 0x08 })
            .Concat(new byte[] { 0x62, 0x03, 0x0A, 0x01, 0xAA, 0x62, 0x03, 0x0A, 0x01, 0xBB })
            .ToArray();
        Assert.Equal(2, InsertRequest.Parser.ParseFrom(payload).RowData.Count);

        var change = DecodeInsert(payload);

        Assert.Equal(2, change.RowCount);
        Assert.Equal((7UL, 8UL), (change.FirstRowTimestamp.Value, change.LastRowTimestamp.Value));
        Assert.Empty(change.Columns);
    }

    [Fact]
    public void Unknown_fields_of_every_wire_type_are_skipped()
    {
        var payload = Insert(445, "v0", [1]).ToByteArray()
            .Concat(new byte[] { 0x98, 0x06, 0x01 })                                 // field 99 varint
            .Concat(new byte[] { 0xA1, 0x06, 1, 2, 3, 4, 5, 6, 7, 8 })               // field 100 fixed64
            .Concat(new byte[] { 0xAD, 0x06, 1, 2, 3, 4 })                           // field 101 fixed32
            .Concat(new byte[] { 0xB2, 0x06, 0x02, 0x01, 0x02 })                     // field 102 bytes
            .ToArray();

        var change = DecodeInsert(payload);

        Assert.Equal(1, change.RowCount);
        Assert.Equal("v0", change.ShardName);
    }

    [Theory]
    [InlineData(100)]
    [InlineData(1000)]
    [InlineData(1)]
    public void Truncation_anywhere_inside_the_column_data_is_a_failure(int cut)
    {
        var bytes = Insert(445, "v0", [1, 2, 3], dim: 128).ToByteArray();
        var truncated = bytes.AsMemory(0, bytes.Length - cut);

        var result = _decoder.Decode(new SourceMessage("ch", new KafkaOffset(1), new Dictionary<string, string> { ["msg_type"] = "Insert" }, truncated));

        Assert.False(result.IsSuccess);
        Assert.Throws<InvalidProtocolBufferException>(() => InsertRequest.Parser.ParseFrom(truncated.Span));
    }

    [Fact]
    public void Group_wire_types_are_rejected()
    {
        var payload = Insert(445, "v0", [1]).ToByteArray().Concat(new byte[] { 0x9B, 0x06 }).ToArray(); // field 99 start-group

        var result = _decoder.Decode(new SourceMessage("ch", new KafkaOffset(1), new Dictionary<string, string> { ["msg_type"] = "Insert" }, payload));

        Assert.Contains("wire type", result.Failure!.Reason);
    }
}
