using System.Buffers;
using Google.Protobuf;

namespace Cdc.Infrastructure.Milvus.Grpc;

/// <summary>
/// The protobuf encoding of one request message, in pieces that are written one after the other: a message built
/// around large byte fields that already exist elsewhere (ReplicateMessage's Msgs) is sent without being copied into
/// one buffer first.
/// </summary>
public sealed class GrpcMessageBody
{
    private GrpcMessageBody(IReadOnlyList<ReadOnlySequence<byte>> pieces)
    {
        Pieces = pieces;
        Length = pieces.Sum(p => p.Length);
        if (Length > GrpcFraming.MaxMessageLength)
        {
            throw new ArgumentException($"a gRPC message of {Length} bytes exceeds the limit of {GrpcFraming.MaxMessageLength}", nameof(pieces));
        }
    }

    public IReadOnlyList<ReadOnlySequence<byte>> Pieces { get; }

    /// <summary>Bytes of the encoded message (the gRPC frame adds its 5-byte prefix).</summary>
    public long Length { get; }

    public static GrpcMessageBody Of(IMessage message) => new([new ReadOnlySequence<byte>(message.ToByteArray())]);

    /// <summary>
    /// <paramref name="head"/>, then each of <paramref name="values"/> as field <paramref name="field"/> (repeated
    /// bytes), then <paramref name="tail"/>: the encoding of a message whose fields before
    /// <paramref name="field"/> are in head and whose fields after it are in tail, as protobuf writes it (fields in
    /// the order of their numbers).
    /// </summary>
    public static GrpcMessageBody WithRepeatedBytes(IMessage head, int field, IReadOnlyList<ReadOnlySequence<byte>> values, IMessage tail)
    {
        var pieces = new List<ReadOnlySequence<byte>>((2 * values.Count) + 2) { new(head.ToByteArray()) };
        var tag = WireFormat.MakeTag(field, WireFormat.WireType.LengthDelimited);
        foreach (var value in values)
        {
            var prefix = new byte[CodedOutputStream.ComputeRawVarint32Size(tag) + CodedOutputStream.ComputeLengthSize(checked((int)value.Length))];
            var output = new CodedOutputStream(prefix);
            output.WriteTag(tag);
            output.WriteLength((int)value.Length);
            output.Flush();
            pieces.Add(new ReadOnlySequence<byte>(prefix));
            pieces.Add(value);
        }

        pieces.Add(new ReadOnlySequence<byte>(tail.ToByteArray()));
        return new GrpcMessageBody(pieces);
    }
}
