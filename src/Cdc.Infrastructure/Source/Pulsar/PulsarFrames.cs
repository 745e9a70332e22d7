using System.Buffers.Binary;
using Cdc.Infrastructure.Source.Pulsar.Protos;
using Google.Protobuf;

namespace Cdc.Infrastructure.Source.Pulsar;

/// <summary>
/// The frames of the Pulsar binary protocol (its documentation, "Framing"): all integers big-endian.
/// A simple command is <c>[total size u32][command size u32][BaseCommand]</c>; a payload command continues with
/// <c>[magic 0x0e01 u16][CRC-32C u32][metadata size u32][MessageMetadata][payload]</c>, the checksum covering
/// everything after it. A broker may put <c>[magic 0x0e02 u16][size u32][BrokerEntryMetadata]</c> before the
/// checksum magic, for clients that announce it.
/// </summary>
public static class PulsarFrames
{
    public const ushort ChecksumMagic = 0x0e01;
    public const ushort BrokerEntryMetadataMagic = 0x0e02;

    /// <summary>
    /// What a frame may have beyond the largest message: command and metadata (Pulsar's Commands
    /// MESSAGE_SIZE_FRAME_PADDING, 10 KiB).
    /// </summary>
    public const int FramePadding = 10 * 1024;

    public static byte[] Simple(BaseCommand command)
    {
        var commandSize = command.CalculateSize();
        var frame = new byte[8 + commandSize];
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)(4 + commandSize));
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(4), (uint)commandSize);
        command.WriteTo(frame.AsSpan(8, commandSize));
        return frame;
    }

    /// <summary>A payload command (SEND from a producer, MESSAGE from a broker) with its checksum.</summary>
    public static byte[] WithPayload(
        BaseCommand command, MessageMetadata metadata, ReadOnlySpan<byte> payload, BrokerEntryMetadata? brokerEntryMetadata = null)
    {
        var commandSize = command.CalculateSize();
        var metadataSize = metadata.CalculateSize();
        var brokerEntrySize = brokerEntryMetadata?.CalculateSize() ?? 0;
        var brokerEntryPart = brokerEntryMetadata is null ? 0 : 2 + 4 + brokerEntrySize;
        var total = 4 + commandSize + brokerEntryPart + 2 + 4 + 4 + metadataSize + payload.Length;
        var frame = new byte[4 + total];
        var span = frame.AsSpan();
        BinaryPrimitives.WriteUInt32BigEndian(span, (uint)total);
        BinaryPrimitives.WriteUInt32BigEndian(span[4..], (uint)commandSize);
        var at = 8;
        command.WriteTo(span.Slice(at, commandSize));
        at += commandSize;
        if (brokerEntryMetadata is not null)
        {
            BinaryPrimitives.WriteUInt16BigEndian(span[at..], BrokerEntryMetadataMagic);
            BinaryPrimitives.WriteUInt32BigEndian(span[(at + 2)..], (uint)brokerEntrySize);
            brokerEntryMetadata.WriteTo(span.Slice(at + 6, brokerEntrySize));
            at += brokerEntryPart;
        }

        BinaryPrimitives.WriteUInt16BigEndian(span[at..], ChecksumMagic);
        var checksumAt = at + 2;
        var checked_ = at + 6;
        BinaryPrimitives.WriteUInt32BigEndian(span[checked_..], (uint)metadataSize);
        metadata.WriteTo(span.Slice(checked_ + 4, metadataSize));
        payload.CopyTo(span[(checked_ + 4 + metadataSize)..]);
        BinaryPrimitives.WriteUInt32BigEndian(span[checksumAt..], PulsarChecksum.Compute(span[checked_..]));
        return frame;
    }

    /// <summary>
    /// Reads one frame body (the bytes after the total size): the command and, for a payload command, its checksum,
    /// metadata and payload. The payload refers to <paramref name="body"/>.
    /// </summary>
    public static PulsarFrame Parse(ReadOnlyMemory<byte> body)
    {
        var span = body.Span;
        if (span.Length < 4) throw new PulsarProtocolException($"malformed frame: {span.Length} bytes cannot hold a command size");
        var commandSize = BinaryPrimitives.ReadUInt32BigEndian(span);
        if (commandSize > (uint)(span.Length - 4))
            throw new PulsarProtocolException($"malformed frame: a command of {commandSize} bytes in a frame of {span.Length}");
        var command = ParseCommand(span.Slice(4, (int)commandSize));
        var rest = body[(4 + (int)commandSize)..];
        if (rest.IsEmpty) return new PulsarFrame(command, null, null, ReadOnlyMemory<byte>.Empty);

        var at = 0;
        BrokerEntryMetadata? brokerEntry = null;
        if (rest.Length >= 2 && BinaryPrimitives.ReadUInt16BigEndian(rest.Span) == BrokerEntryMetadataMagic)
        {
            if (rest.Length < 6) throw Malformed(command, "the broker entry metadata is cut short");
            var size = BinaryPrimitives.ReadUInt32BigEndian(rest.Span[2..]);
            if (size > (uint)(rest.Length - 6)) throw Malformed(command, $"broker entry metadata of {size} bytes overruns the frame");
            brokerEntry = ParseOrThrow(BrokerEntryMetadata.Parser, rest.Span.Slice(6, (int)size), command, "broker entry metadata");
            at = 6 + (int)size;
        }

        var payloadPart = rest.Span[at..];
        if (payloadPart.Length < 10) throw Malformed(command, $"{payloadPart.Length} bytes after the command cannot hold magic, checksum and metadata size");
        var magic = BinaryPrimitives.ReadUInt16BigEndian(payloadPart);
        if (magic != ChecksumMagic) throw Malformed(command, $"magic number 0x{magic:x4} where 0x{ChecksumMagic:x4} was expected");
        var expected = BinaryPrimitives.ReadUInt32BigEndian(payloadPart[2..]);
        var checkedPart = payloadPart[6..];
        var actual = PulsarChecksum.Compute(checkedPart);
        if (actual != expected)
            throw new PulsarProtocolException($"checksum mismatch in {Describe(command)}: the frame says 0x{expected:x8}, its bytes give 0x{actual:x8}");
        var metadataSize = BinaryPrimitives.ReadUInt32BigEndian(checkedPart);
        if (metadataSize > (uint)(checkedPart.Length - 4)) throw Malformed(command, $"metadata of {metadataSize} bytes overruns the frame");
        var metadata = ParseOrThrow(MessageMetadata.Parser, checkedPart.Slice(4, (int)metadataSize), command, "message metadata");
        var payloadStart = 4 + (int)commandSize + at + 6 + 4 + (int)metadataSize;
        return new PulsarFrame(command, metadata, brokerEntry, body[payloadStart..]);
    }

    /// <summary>Parses a BaseCommand; a command the protocol does not allow to be empty of its type is malformed.</summary>
    public static BaseCommand ParseCommand(ReadOnlySpan<byte> bytes)
    {
        BaseCommand command;
        try
        {
            command = BaseCommand.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new PulsarProtocolException($"malformed frame: the command is not a BaseCommand ({e.Message})", e);
        }

        if (!command.HasType) throw new PulsarProtocolException("malformed frame: the command has no type");
        return command;
    }

    /// <summary>A command for messages: its type, and the message id when it carries one.</summary>
    public static string Describe(BaseCommand command) => command.Type == BaseCommand.Types.Type.Message && command.Message?.MessageId is { } id
        ? $"MESSAGE {id.LedgerId}:{id.EntryId}"
        : command.Type.ToString().ToUpperInvariant();

    private static T ParseOrThrow<T>(MessageParser<T> parser, ReadOnlySpan<byte> bytes, BaseCommand command, string what)
        where T : IMessage<T>
    {
        try
        {
            return parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw Malformed(command, $"the {what} cannot be parsed ({e.Message})");
        }
    }

    private static PulsarProtocolException Malformed(BaseCommand command, string problem) =>
        new($"malformed frame {Describe(command)}: {problem}");
}

/// <summary>One frame: a command, and for a payload command its metadata and (still compressed) payload.</summary>
public sealed record PulsarFrame(
    BaseCommand Command, MessageMetadata? Metadata, BrokerEntryMetadata? BrokerEntryMetadata, ReadOnlyMemory<byte> Payload)
{
    /// <summary>
    /// The array the frame was read into when it was rented from the shared pool (a frame of
    /// <see cref="MessageArrays.PooledFrom"/> bytes or more): whoever takes the payload may return it once nothing
    /// refers to the payload any more; nobody else does (left alone, the GC takes it).
    /// </summary>
    public byte[]? Lent { get; init; }
}
