using System.Buffers;
using Cdc.Infrastructure.Milvus.Protos.Common;
using Cdc.Infrastructure.Milvus.Protos.Msg;
using Cdc.Infrastructure.Target;
using Google.Protobuf;
using Grpc.Core;
using Rpc = Cdc.Infrastructure.Milvus.Protos.Rpc;

namespace Cdc.Infrastructure.Tests.Target;

public sealed class EncodedReplicateMessageRequestTests
{
    [Fact]
    public void A_ReplicateMessage_written_in_pieces_is_byte_for_byte_the_whole_request()
    {
        var random = new Random(7);
        var big = new byte[200_000];
        random.NextBytes(big);
        var small = new byte[] { 1, 2, 3 };
        // One message in three segments (small, large, small), one large, one small, one empty.
        var split = MemorySegments.ToSequence([big.AsMemory(0, 10), big.AsMemory(10, 150_000), big.AsMemory(150_010)]);
        var messages = new[] { split, new ReadOnlySequence<byte>(big), new ReadOnlySequence<byte>(small), ReadOnlySequence<byte>.Empty };
        var position = new MsgPosition { ChannelName = "by-dev-rootcoord-dml_0", MsgID = ByteString.CopyFrom(1, 2, 3), Timestamp = 99 };
        var fields = new Rpc.ReplicateMessageRequest
        {
            Base = new MsgBase { ReplicateInfo = new ReplicateInfo { IsReplicate = true, ReplicateID = "cdc" } },
            ChannelName = "target-rootcoord-dml_0",
            BeginTs = 10,
            EndTs = 20,
            StartPositions = { position },
            EndPositions = { position, position },
        };

        var sent = Serialize(new EncodedReplicateMessageRequest(fields, messages));

        var whole = fields.Clone();
        whole.Msgs.AddRange(messages.Select(m => ByteString.CopyFrom(m.ToArray())));
        Assert.Equal(whole.ToByteArray(), sent.Bytes);
        Assert.Equal(sent.Bytes.Length, sent.DeclaredLength);
        Assert.True(sent.Completed);
    }

    [Fact]
    public void Without_messages_or_positions_it_is_the_plain_request()
    {
        var fields = new Rpc.ReplicateMessageRequest { ChannelName = "target-replicate-msg" };

        var sent = Serialize(new EncodedReplicateMessageRequest(fields, []));

        Assert.Equal(fields.ToByteArray(), sent.Bytes);
        Assert.Equal("milvus.proto.milvus.MilvusService/ReplicateMessage", EncodedReplicateMessageRequest.Method.FullName.TrimStart('/'));
    }

    [Fact]
    public void Messages_in_the_request_itself_are_refused()
    {
        var fields = new Rpc.ReplicateMessageRequest { ChannelName = "target-rootcoord-dml_0", Msgs = { ByteString.CopyFrom(1) } };

        Assert.Throws<ArgumentException>(() => new EncodedReplicateMessageRequest(fields, []));
    }

    /// <summary>What the request marshaller writes through a gRPC serialization context, as Grpc.Net.Client calls it.</summary>
    private static (byte[] Bytes, int? DeclaredLength, bool Completed) Serialize(EncodedReplicateMessageRequest request)
    {
        var context = new RecordingSerializationContext();
        EncodedReplicateMessageRequest.Method.RequestMarshaller.ContextualSerializer(request, context);
        return (context.Written.ToArray(), context.DeclaredLength, context.Completed);
    }

    private sealed class RecordingSerializationContext : SerializationContext
    {
        private readonly ArrayBufferWriter<byte> _written = new();

        public ReadOnlyMemory<byte> Written => _written.WrittenMemory;

        public int? DeclaredLength { get; private set; }

        public bool Completed { get; private set; }

        public override void SetPayloadLength(int payloadLength) => DeclaredLength = payloadLength;

        public override IBufferWriter<byte> GetBufferWriter() => _written;

        public override void Complete() => Completed = true;

        public override void Complete(byte[] payload)
        {
            _written.Write(payload);
            Completed = true;
        }
    }
}
