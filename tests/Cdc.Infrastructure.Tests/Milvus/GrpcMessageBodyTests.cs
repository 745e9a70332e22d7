using System.Buffers;
using Cdc.Infrastructure.Milvus;
using Cdc.Infrastructure.Milvus.Grpc;
using Cdc.Infrastructure.Milvus.Protos.Common;
using Cdc.Infrastructure.Milvus.Protos.Msg;
using Google.Protobuf;
using Rpc = Cdc.Infrastructure.Milvus.Protos.Rpc;

namespace Cdc.Infrastructure.Tests.Milvus;

public sealed class GrpcMessageBodyTests
{
    [Fact]
    public async Task A_ReplicateMessage_sent_in_pieces_is_byte_for_byte_the_frame_of_the_whole_request()
    {
        var random = new Random(7);
        var big = new byte[200_000];
        random.NextBytes(big);
        var small = new byte[] { 1, 2, 3 };
        // One message in three segments (small, large, small), one large, one small, one empty.
        var split = MemorySegments.ToSequence([big.AsMemory(0, 10), big.AsMemory(10, 150_000), big.AsMemory(150_010)]);
        var messages = new[] { split, new ReadOnlySequence<byte>(big), new ReadOnlySequence<byte>(small), ReadOnlySequence<byte>.Empty };
        var position = new MsgPosition { ChannelName = "by-dev-rootcoord-dml_0", MsgID = ByteString.CopyFrom(1, 2, 3), Timestamp = 99 };
        var head = new Rpc.ReplicateMessageRequest
        {
            Base = new MsgBase { ReplicateInfo = new ReplicateInfo { IsReplicate = true, ReplicateID = "cdc" } },
            ChannelName = "target-rootcoord-dml_0",
            BeginTs = 10,
            EndTs = 20,
        };
        var tail = new Rpc.ReplicateMessageRequest();
        tail.StartPositions.Add(position);
        tail.EndPositions.Add(position);

        var body = GrpcMessageBody.WithRepeatedBytes(head, Rpc.ReplicateMessageRequest.MsgsFieldNumber, messages, tail);
        using var content = new GrpcRequestContent(body);
        using var sent = new MemoryStream();
        await content.CopyToAsync(sent);

        var whole = head.Clone();
        whole.Msgs.AddRange(messages.Select(m => ByteString.CopyFrom(m.ToArray())));
        whole.StartPositions.Add(position);
        whole.EndPositions.Add(position);
        Assert.Equal(GrpcFraming.Frame(whole), sent.ToArray());
        Assert.Equal(sent.Length, content.Headers.ContentLength);
    }
}
