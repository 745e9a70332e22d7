using System.Buffers;
using Google.Protobuf;
using Grpc.Core;
using Rpc = Cdc.Infrastructure.Milvus.Protos.Rpc;

namespace Cdc.Infrastructure.Target;

/// <summary>
/// A request whose one repeated length-delimited field (repeated bytes, or repeated messages already encoded) is
/// written from pieces that stay where they are: the fields numbered below it (<c>head</c>), then each piece as its tag,
/// its length and its bytes, then the fields numbered above it (<c>tail</c>), in field-number order as protobuf writes a
/// message, so the bytes are exactly the encoding of the whole request. The pieces (a 3 MB Insert, or its columns,
/// partly slices of the Kafka record) are never copied into ByteStrings; Grpc.Net.Client copies the encoding once, into
/// the pooled buffer of the gRPC frame it sends.
/// </summary>
internal abstract class EncodedRequest
{
    // Two varints of at most 5 bytes each: the tag and a length below 2^32.
    private const int MaxPrefixLength = 10;

    private readonly IMessage _head;
    private readonly uint _tag;
    private readonly IReadOnlyList<ReadOnlySequence<byte>> _pieces;
    private readonly IMessage _tail;

    /// <param name="head">The request's fields numbered below <paramref name="fieldNumber"/> (none above it).</param>
    /// <param name="fieldNumber">The repeated length-delimited field the pieces are the entries of.</param>
    /// <param name="pieces">The entries' encoded bytes, in order.</param>
    /// <param name="tail">The request's fields numbered above <paramref name="fieldNumber"/> (none below it).</param>
    protected EncodedRequest(IMessage head, int fieldNumber, IReadOnlyList<ReadOnlySequence<byte>> pieces, IMessage tail)
    {
        ArgumentNullException.ThrowIfNull(pieces);
        _head = head;
        _tag = WireFormat.MakeTag(fieldNumber, WireFormat.WireType.LengthDelimited);
        _pieces = pieces;
        _tail = tail;

        var length = (long)_head.CalculateSize() + _tail.CalculateSize();
        foreach (var piece in pieces)
        {
            length += CodedOutputStream.ComputeRawVarint32Size(_tag) + CodedOutputStream.ComputeLengthSize(checked((int)piece.Length)) + piece.Length;
        }

        // A gRPC message's length is a 32-bit field and Grpc.Net.Client's buffers are arrays.
        Length = length <= Array.MaxLength - 5
            ? (int)length
            : throw new ArgumentException($"a {_head.Descriptor.Name} of {length} bytes is larger than one gRPC message can be", nameof(pieces));
    }

    /// <summary>Bytes of the encoded request.</summary>
    public int Length { get; }

    /// <summary>Writes the encoding through the gRPC call's buffer writer, its length declared first.</summary>
    public void WriteTo(SerializationContext context)
    {
        context.SetPayloadLength(Length);
        var writer = context.GetBufferWriter();
        _head.WriteTo(writer);
        Span<byte> prefix = stackalloc byte[MaxPrefixLength];
        foreach (var piece in _pieces)
        {
            var written = WriteVarint(prefix, _tag);
            written += WriteVarint(prefix[written..], (uint)piece.Length);
            writer.Write(prefix[..written]);
            foreach (var segment in piece)
            {
                writer.Write(segment.Span);
            }
        }

        _tail.WriteTo(writer);
        context.Complete();
    }

    /// <summary>MilvusService/<paramref name="name"/> sending <typeparamref name="TRequest"/>; the response is the generated message.</summary>
    protected static Method<TRequest, TResponse> MilvusMethod<TRequest, TResponse>(string name, MessageParser<TResponse> parser)
        where TRequest : EncodedRequest
        where TResponse : IMessage<TResponse> =>
        new(
            MethodType.Unary,
            Rpc.MilvusService.Descriptor.FullName,
            name,
            Marshallers.Create<TRequest>(
                static (request, context) => request.WriteTo(context),
                _ => throw new NotSupportedException($"an encoded {name} request is only ever sent")),
            Marshallers.Create<TResponse>(
                static (response, context) => context.Complete(response.ToByteArray()),
                context => parser.ParseFrom(context.PayloadAsReadOnlySequence())));

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
