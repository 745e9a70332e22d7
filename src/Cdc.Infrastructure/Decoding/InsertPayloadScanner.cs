using Cdc.Domain.Changes;
using Cdc.Infrastructure.Milvus.Protos.Common;
using Cdc.Infrastructure.Milvus.Protos.Schema;
using Cdc.Infrastructure.MilvusWire;

namespace Cdc.Infrastructure.Decoding;

/// <summary>
/// Reads what an <see cref="InsertChange"/> needs from a msg.InsertRequest payload (field numbers of milvus-proto
/// msg.proto) without copying the column data: ids, names, shard, row count and first/last row timestamps, and
/// each column's id, name and type. The column values stay in the raw payload that is forwarded as-is; their framing
/// (lengths, tags) is still checked, so a truncated message fails here as it would in a full parse.
/// </summary>
internal static class InsertPayloadScanner
{
    public sealed class Header
    {
        public MsgBase? Base { get; set; }
        public string ShardName { get; set; } = "";
        public string DbName { get; set; } = "";
        public string CollectionName { get; set; } = "";
        public string PartitionName { get; set; } = "";
        public long DbId { get; set; }
        public long CollectionId { get; set; }
        public long PartitionId { get; set; }
        public long SegmentId { get; set; }
        public int TimestampCount { get; set; }
        public ulong FirstTimestamp { get; set; }
        public ulong LastTimestamp { get; set; }
        public int RowIdCount { get; set; }
        public int RowDataCount { get; set; }
        public ulong NumRows { get; set; }
        public List<InsertColumn> Columns { get; } = [];
    }

    public static Header Scan(ReadOnlySpan<byte> payload)
    {
        var header = new Header();
        var reader = new ProtobufSpanReader(payload);
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadTag();
            switch (field, wire)
            {
                case (1, ProtobufSpanReader.LengthDelimited):
                    header.Base = MsgBase.Parser.ParseFrom(reader.ReadLengthDelimited());
                    break;
                case (2, ProtobufSpanReader.LengthDelimited):
                    header.ShardName = reader.ReadString();
                    break;
                case (3, ProtobufSpanReader.LengthDelimited):
                    header.DbName = reader.ReadString();
                    break;
                case (4, ProtobufSpanReader.LengthDelimited):
                    header.CollectionName = reader.ReadString();
                    break;
                case (5, ProtobufSpanReader.LengthDelimited):
                    header.PartitionName = reader.ReadString();
                    break;
                case (6, ProtobufSpanReader.Varint):
                    header.DbId = (long)reader.ReadVarint();
                    break;
                case (7, ProtobufSpanReader.Varint):
                    header.CollectionId = (long)reader.ReadVarint();
                    break;
                case (8, ProtobufSpanReader.Varint):
                    header.PartitionId = (long)reader.ReadVarint();
                    break;
                case (9, ProtobufSpanReader.Varint):
                    header.SegmentId = (long)reader.ReadVarint();
                    break;
                case (10, ProtobufSpanReader.LengthDelimited):
                    AddTimestamps(header, reader.ReadLengthDelimited());
                    break;
                case (10, ProtobufSpanReader.Varint):
                    AddTimestamp(header, reader.ReadVarint());
                    break;
                case (11, ProtobufSpanReader.LengthDelimited):
                    header.RowIdCount += ProtobufSpanReader.CountPackedVarints(reader.ReadLengthDelimited(), out _, out _);
                    break;
                case (11, ProtobufSpanReader.Varint):
                    reader.ReadVarint();
                    header.RowIdCount++;
                    break;
                case (12, ProtobufSpanReader.LengthDelimited):
                    reader.ReadLengthDelimited();
                    header.RowDataCount++;
                    break;
                case (13, ProtobufSpanReader.LengthDelimited):
                    header.Columns.Add(ScanColumn(reader.ReadLengthDelimited()));
                    break;
                case (14, ProtobufSpanReader.Varint):
                    header.NumRows = reader.ReadVarint();
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        return header;
    }

    private static void AddTimestamps(Header header, ReadOnlySpan<byte> packed)
    {
        var count = ProtobufSpanReader.CountPackedVarints(packed, out var first, out var last);
        if (count == 0)
        {
            return;
        }

        if (header.TimestampCount == 0)
        {
            header.FirstTimestamp = first;
        }

        header.LastTimestamp = last;
        header.TimestampCount += count;
    }

    private static void AddTimestamp(Header header, ulong value)
    {
        if (header.TimestampCount++ == 0)
        {
            header.FirstTimestamp = value;
        }

        header.LastTimestamp = value;
    }

    /// <summary>schema.FieldData: 1 type, 2 field_name, 5 field_id, 6 is_dynamic; the data (3, 4, 7) is skipped.</summary>
    private static InsertColumn ScanColumn(ReadOnlySpan<byte> fieldData)
    {
        var reader = new ProtobufSpanReader(fieldData);
        var type = DataType.None;
        var name = "";
        long id = 0;
        var dynamic = false;
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadTag();
            switch (field, wire)
            {
                case (1, ProtobufSpanReader.Varint):
                    type = (DataType)(int)reader.ReadVarint();
                    break;
                case (2, ProtobufSpanReader.LengthDelimited):
                    name = reader.ReadString();
                    break;
                case (5, ProtobufSpanReader.Varint):
                    id = (long)reader.ReadVarint();
                    break;
                case (6, ProtobufSpanReader.Varint):
                    dynamic = reader.ReadVarint() != 0;
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        return new InsertColumn(id, name, type.ToString(), dynamic);
    }
}
