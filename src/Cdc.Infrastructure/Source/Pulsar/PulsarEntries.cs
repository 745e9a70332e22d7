using System.Buffers;
using System.Buffers.Binary;
using Cdc.Infrastructure.Source.Pulsar.Protos;
using Google.Protobuf;
using Google.Protobuf.Collections;

namespace Cdc.Infrastructure.Source.Pulsar;

/// <summary>One message of a Pulsar entry: its index in the batch (-1 for an entry that is no batch), properties, payload.</summary>
public sealed record PulsarEntryMessage(int BatchIndex, IReadOnlyDictionary<string, string> Properties, ReadOnlyMemory<byte> Payload);

/// <summary>
/// The messages of one stored entry. An entry is a batch when its MessageMetadata sets num_messages_in_batch (even
/// to 1: the Go client Milvus 2.3-2.5 pins sends every message that way); its payload, once decompressed, is
/// <c>[SingleMessageMetadata size u32][SingleMessageMetadata][payload_size bytes]</c> per message. Otherwise the
/// payload is the one message and the properties are the entry's.
/// </summary>
public static class PulsarEntries
{
    /// <summary>More messages than this in one batch is taken for corruption, not data.</summary>
    public const int MaxMessagesInBatch = 1 << 20;

    public static IReadOnlyList<PulsarEntryMessage> Decode(MessageMetadata metadata, ReadOnlyMemory<byte> payload, int maxUncompressedBytes) =>
        Decode(metadata, payload, maxUncompressedBytes, out _);

    /// <summary>
    /// As <see cref="Decode(MessageMetadata, ReadOnlyMemory{byte}, int)"/>; a compressed entry of at least
    /// <see cref="MessageArrays.PooledFrom"/> bytes is decompressed into an array rented from the shared pool,
    /// given in <paramref name="lent"/> (the messages are slices of it), for the caller to return once it holds none of
    /// them.
    /// </summary>
    public static IReadOnlyList<PulsarEntryMessage> Decode(MessageMetadata metadata, ReadOnlyMemory<byte> payload, int maxUncompressedBytes, out byte[]? lent)
    {
        lent = null;
        if (metadata.EncryptionKeys.Count > 0)
            throw new PulsarProtocolException("the entry is encrypted (MessageMetadata.encryption_keys), which this reader does not support");
        if (metadata.HasNumChunksFromMsg && metadata.NumChunksFromMsg > 1)
            throw new PulsarProtocolException($"the entry is chunk {metadata.ChunkId} of a message in {metadata.NumChunksFromMsg} chunks, which this reader does not support");

        var bytes = payload;
        if (metadata.Compression != CompressionType.None)
        {
            if (metadata.UncompressedSize > (uint)maxUncompressedBytes)
                throw new PulsarProtocolException(
                    $"the entry decompresses to {metadata.UncompressedSize} bytes (uncompressed_size), more than the {maxUncompressedBytes} taken");
            var size = (int)metadata.UncompressedSize;
            var output = MessageArrays.Take(size, ArrayPool<byte>.Shared);
            PulsarCompression.DecompressInto(metadata.Compression, payload.Span, output.AsSpan(0, size));
            bytes = output.AsMemory(0, size);
            if (MessageArrays.IsPooled(size)) lent = output;
        }

        if (!metadata.HasNumMessagesInBatch)
            return [new PulsarEntryMessage(-1, ToDictionary(metadata.Properties), metadata.NullValue ? ReadOnlyMemory<byte>.Empty : bytes)];

        var count = metadata.NumMessagesInBatch;
        if (count is < 1 or > MaxMessagesInBatch)
            throw new PulsarProtocolException($"the entry says num_messages_in_batch {count}");
        var messages = new List<PulsarEntryMessage>(count);
        var at = 0;
        for (var index = 0; index < count; index++)
        {
            var span = bytes.Span;
            if (span.Length - at < 4) throw BatchCut(index, count, "metadata size");
            var size = BinaryPrimitives.ReadUInt32BigEndian(span[at..]);
            at += 4;
            if (size > (uint)(span.Length - at)) throw BatchCut(index, count, $"{size}-byte metadata");
            SingleMessageMetadata single;
            try
            {
                single = SingleMessageMetadata.Parser.ParseFrom(span.Slice(at, (int)size));
            }
            catch (InvalidProtocolBufferException e)
            {
                throw new PulsarProtocolException($"message {index} of the batch has metadata that cannot be parsed ({e.Message})", e);
            }

            at += (int)size;
            if (single.PayloadSize < 0 || single.PayloadSize > span.Length - at) throw BatchCut(index, count, $"{single.PayloadSize}-byte payload");
            var messagePayload = bytes.Slice(at, single.PayloadSize);
            at += single.PayloadSize;
            if (single.CompactedOut) continue;
            messages.Add(new PulsarEntryMessage(index, ToDictionary(single.Properties), single.NullValue ? ReadOnlyMemory<byte>.Empty : messagePayload));
        }

        return messages;
    }

    /// <summary>
    /// The uncompressed payload of a batch entry holding <paramref name="messages"/>, in the order given
    /// (num_messages_in_batch of its metadata is their count).
    /// </summary>
    public static byte[] EncodeBatch(IEnumerable<(IReadOnlyDictionary<string, string> Properties, ReadOnlyMemory<byte> Payload)> messages)
    {
        using var output = new MemoryStream();
        Span<byte> size = stackalloc byte[4];
        foreach (var (properties, payload) in messages)
        {
            var single = new SingleMessageMetadata { PayloadSize = payload.Length };
            single.Properties.Add(ToKeyValues(properties));
            BinaryPrimitives.WriteUInt32BigEndian(size, (uint)single.CalculateSize());
            output.Write(size);
            single.WriteTo(output);
            output.Write(payload.Span);
        }

        return output.ToArray();
    }

    public static IEnumerable<KeyValue> ToKeyValues(IReadOnlyDictionary<string, string> properties) =>
        properties.Select(p => new KeyValue { Key = p.Key, Value = p.Value });

    private static Dictionary<string, string> ToDictionary(RepeatedField<KeyValue> properties)
    {
        var result = new Dictionary<string, string>(properties.Count, StringComparer.Ordinal);
        foreach (var property in properties) result[property.Key] = property.Value;
        return result;
    }

    private static PulsarProtocolException BatchCut(int index, int count, string what) =>
        new($"the batch of {count} messages ends before message {index}'s {what}");
}
