using System.Buffers;
using Google.Protobuf;
using Grpc.Core;
using Rpc = Cdc.Infrastructure.Milvus.Protos.Rpc;

namespace Cdc.Infrastructure.Target;

/// <summary>
/// A ReplicateMessageRequest (milvus-proto milvus.proto) whose Msgs (field 5, repeated bytes) stay where they are: the
/// fields before them (base, channel_name, BeginTs, EndTs: 1 to 4), then each message as its tag, its length and its
/// bytes, then the fields after them (StartPositions, EndPositions: 6 and 7), in field-number order as protobuf writes
/// a message, so the bytes are exactly the encoding of the whole request. The messages (3 MB for a 1,000-row insert of
/// 768-dim vectors, itself partly a slice of the Kafka record) are never copied into ByteStrings; Grpc.Net.Client
/// copies the encoding once, into the pooled buffer of the gRPC frame it sends.
/// </summary>
internal sealed class EncodedReplicateMessageRequest
{
    /// <summary>MilvusService/ReplicateMessage with this request type; the response is the generated message.</summary>
    public static readonly Method<EncodedReplicateMessageRequest, Rpc.ReplicateMessageResponse> Method = new(
        MethodType.Unary,
        Rpc.MilvusService.Descriptor.FullName,
        "ReplicateMessage",
        Marshallers.Create<EncodedReplicateMessageRequest>(
            static (request, context) => request.WriteTo(context),
            static _ => throw new NotSupportedException("an encoded ReplicateMessageRequest is only ever sent")),
        Marshallers.Create<Rpc.ReplicateMessageResponse>(
            static (response, context) => context.Complete(response.ToByteArray()),
            static context => Rpc.ReplicateMessageResponse.Parser.ParseFrom(context.PayloadAsReadOnlySequence())));

    private static readonly uint MsgsTag = WireFormat.MakeTag(Rpc.ReplicateMessageRequest.MsgsFieldNumber, WireFormat.WireType.LengthDelimited);

    // Two varints of at most 5 bytes each: the tag and a length below 2^32.
    private const int MaxMsgPrefixLength = 10;

    private readonly Rpc.ReplicateMessageRequest _head;
    private readonly IReadOnlyList<ReadOnlySequence<byte>> _msgs;
    private readonly Rpc.ReplicateMessageRequest _tail;

    /// <param name="fields">Every field but Msgs, which must be empty.</param>
    /// <param name="msgs">The marshalled msgstream messages, in order.</param>
    public EncodedReplicateMessageRequest(Rpc.ReplicateMessageRequest fields, IReadOnlyList<ReadOnlySequence<byte>> msgs)
    {
        ArgumentNullException.ThrowIfNull(fields);
        ArgumentNullException.ThrowIfNull(msgs);
        if (fields.Msgs.Count > 0)
        {
            throw new ArgumentException("the messages go apart, not in the request's Msgs", nameof(fields));
        }

        _head = fields.Clone();
        _head.StartPositions.Clear();
        _head.EndPositions.Clear();
        _tail = new Rpc.ReplicateMessageRequest { StartPositions = { fields.StartPositions }, EndPositions = { fields.EndPositions } };
        _msgs = msgs;

        var length = (long)_head.CalculateSize() + _tail.CalculateSize();
        foreach (var msg in msgs)
        {
            length += CodedOutputStream.ComputeRawVarint32Size(MsgsTag) + CodedOutputStream.ComputeLengthSize(checked((int)msg.Length)) + msg.Length;
        }

        // A gRPC message's length is a 32-bit field and Grpc.Net.Client's buffers are arrays.
        Length = length <= Array.MaxLength - 5
            ? (int)length
            : throw new ArgumentException($"a ReplicateMessageRequest of {length} bytes is larger than one gRPC message can be", nameof(msgs));
    }

    /// <summary>Bytes of the encoded request.</summary>
    public int Length { get; }

    /// <summary>Writes the encoding through the gRPC call's buffer writer, its length declared first.</summary>
    public void WriteTo(SerializationContext context)
    {
        context.SetPayloadLength(Length);
        var writer = context.GetBufferWriter();
        _head.WriteTo(writer);
        Span<byte> prefix = stackalloc byte[MaxMsgPrefixLength];
        foreach (var msg in _msgs)
        {
            var written = WriteVarint(prefix, MsgsTag);
            written += WriteVarint(prefix[written..], (uint)msg.Length);
            writer.Write(prefix[..written]);
            foreach (var segment in msg)
            {
                writer.Write(segment.Span);
            }
        }

        _tail.WriteTo(writer);
        context.Complete();
    }

    private static int WriteVarint(Span<byte> destination, uint value)
    {
        var written = 0;
        while (value >= 0x80)
        {
            destination[written++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[written++] = (byte)value;
        return written;
    }
}
