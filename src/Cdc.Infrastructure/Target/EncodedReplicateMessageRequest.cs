using System.Buffers;
using Grpc.Core;
using Rpc = Cdc.Infrastructure.Milvus.Protos.Rpc;

namespace Cdc.Infrastructure.Target;

/// <summary>
/// A ReplicateMessageRequest (milvus-proto milvus.proto) whose Msgs (field 5, repeated bytes) stay where they are
/// (<see cref="EncodedRequest"/>): base, channel_name, BeginTs, EndTs (1 to 4), each message, then StartPositions and
/// EndPositions (6 and 7).
/// </summary>
internal sealed class EncodedReplicateMessageRequest : EncodedRequest
{
    /// <summary>MilvusService/ReplicateMessage with this request type; the response is the generated message.</summary>
    public static readonly Method<EncodedReplicateMessageRequest, Rpc.ReplicateMessageResponse> Method =
        MilvusMethod<EncodedReplicateMessageRequest, Rpc.ReplicateMessageResponse>("ReplicateMessage", Rpc.ReplicateMessageResponse.Parser);

    /// <param name="fields">Every field but Msgs, which must be empty.</param>
    /// <param name="msgs">The marshalled msgstream messages, in order.</param>
    public EncodedReplicateMessageRequest(Rpc.ReplicateMessageRequest fields, IReadOnlyList<ReadOnlySequence<byte>> msgs)
        : base(Head(fields), Rpc.ReplicateMessageRequest.MsgsFieldNumber, msgs,
            new Rpc.ReplicateMessageRequest { StartPositions = { fields.StartPositions }, EndPositions = { fields.EndPositions } })
    {
    }

    private static Rpc.ReplicateMessageRequest Head(Rpc.ReplicateMessageRequest fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        if (fields.Msgs.Count > 0) throw new ArgumentException("the messages go apart, not in the request's Msgs", nameof(fields));
        var head = fields.Clone();
        head.StartPositions.Clear();
        head.EndPositions.Clear();
        return head;
    }
}
