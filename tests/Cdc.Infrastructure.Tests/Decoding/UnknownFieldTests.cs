using Cdc.Application.Replication.Target;
using Cdc.Domain.Changes;
using Cdc.Infrastructure.Decoding;
using Cdc.Infrastructure.Milvus.Protos.Common;
using Cdc.Infrastructure.Milvus.Protos.Msg;
using Cdc.Infrastructure.Target;
using Google.Protobuf;
using static Cdc.Testing.Milvus.MilvusMessages;

namespace Cdc.Infrastructure.Tests.Decoding;

/// <summary>Fields from newer Milvus versions that our protos do not declare must pass through untouched.</summary>
public sealed class UnknownFieldTests
{
    // Field 99, varint 1: a field no Milvus 2.5 message has.
    private static readonly byte[] UnknownVarint = [0x98, 0x06, 0x01];

    // Field 100, length-delimited "new".
    private static readonly byte[] UnknownBytes = [0xA2, 0x06, 0x03, (byte)'n', (byte)'e', (byte)'w'];

    [Fact]
    public void Unknown_top_level_fields_survive_decode_and_encode()
    {
        var original = Insert(445, "v0", [1, 2]).ToByteArray().Concat(UnknownVarint).Concat(UnknownBytes).ToArray();

        var reencoded = InsertRequest.Parser.ParseFrom(original).ToByteArray();

        Assert.Equal(original, reencoded);
    }

    [Fact]
    public void Unknown_fields_inside_MsgBase_survive()
    {
        // MsgBase with field 8 (varint 3), as a future Milvus might add.
        var msgBase = new MsgBase { MsgType = MsgType.TimeTick, Timestamp = 9 }.ToByteArray().Concat(new byte[] { 0x40, 0x03 }).ToArray();
        var payload = new byte[] { 0x0A, (byte)msgBase.Length }.Concat(msgBase).ToArray();

        var parsed = TimeTickMsg.Parser.ParseFrom(payload);

        Assert.Equal(payload, parsed.ToByteArray());
    }

    [Fact]
    public void The_DML_rewrite_keeps_unknown_fields()
    {
        var original = Insert(445, "src_v0", [1]).ToByteArray().Concat(UnknownBytes).ToArray();

        var rewritten = System.Buffers.BuffersExtensions.ToArray(DmlMessageRewriter.RewriteInsert(original, new DmlRewrite(999, "target_v0")));

        Assert.EndsWith(Convert.ToHexString(UnknownBytes), Convert.ToHexString(rewritten));
        Assert.Equal(999, InsertRequest.Parser.ParseFrom(rewritten).CollectionID);
    }

    [Fact]
    public void Decoded_change_keeps_the_exact_payload_bytes_for_forwarding()
    {
        var original = Delete(445, "v0", [1]).ToByteArray().Concat(UnknownVarint).ToArray();
        var message = new SourceMessage("ch", new KafkaOffset(1), new Dictionary<string, string>(), original);

        var change = new MsgStreamDecoder().DecodeOrThrow(message);

        Assert.Equal(original, change.Payload.ToArray());
    }
}
