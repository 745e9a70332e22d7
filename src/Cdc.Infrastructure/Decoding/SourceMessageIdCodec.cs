using System.Buffers.Binary;
using Cdc.Domain.Changes;
using Cdc.Infrastructure.Source.Kafka;
using Cdc.Infrastructure.Source.Pulsar.Protos;
using Google.Protobuf;

namespace Cdc.Infrastructure.Decoding;

/// <summary>
/// The bytes Milvus keeps as MsgPosition.msgID: Kafka offsets as 8-byte little-endian int64, Pulsar ids as the
/// protobuf MessageIdData the Pulsar client serializes.
/// </summary>
public static class SourceMessageIdCodec
{
    public static byte[] ToBytes(SourceMessageId id) => id switch
    {
        KafkaOffset kafka => KafkaBytes(kafka.Offset),
        PulsarMessageId pulsar => new MessageIdData
        {
            LedgerId = pulsar.LedgerId,
            EntryId = pulsar.EntryId,
            Partition = pulsar.Partition,
            BatchIndex = pulsar.BatchIndex,
        }.ToByteArray(),
        OpaqueMessageId opaque => opaque.Bytes.ToArray(),
        _ => throw new ArgumentOutOfRangeException(nameof(id), id, "unknown message id kind"),
    };

    public static byte[] KafkaBytes(long offset) => Source.Kafka.KafkaMessageId.FromOffset(offset);

    /// <summary>Reads a Kafka id; anything but exactly 8 bytes is kept opaque.</summary>
    public static SourceMessageId FromKafka(ReadOnlySpan<byte> bytes) =>
        bytes.Length == 8 ? new KafkaOffset(BinaryPrimitives.ReadInt64LittleEndian(bytes)) : new OpaqueMessageId(bytes.ToArray());

    /// <summary>Reads a Pulsar MessageIdData; bytes that are not one (or lack ledger/entry) are kept opaque.</summary>
    public static SourceMessageId FromPulsar(ReadOnlySpan<byte> bytes)
    {
        try
        {
            var data = MessageIdData.Parser.ParseFrom(bytes);
            if (data.HasLedgerId && data.HasEntryId)
            {
                return new PulsarMessageId(data.LedgerId, data.EntryId, data.Partition, data.BatchIndex);
            }
        }
        catch (InvalidProtocolBufferException)
        {
        }

        return new OpaqueMessageId(bytes.ToArray());
    }
}
