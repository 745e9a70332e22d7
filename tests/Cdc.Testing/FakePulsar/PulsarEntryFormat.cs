using Cdc.Infrastructure.Source.Pulsar;
using Cdc.Infrastructure.Source.Pulsar.Protos;

namespace Cdc.Testing.FakePulsar;

/// <summary>One message to write: its properties and payload.</summary>
public sealed record PulsarTestMessage(IReadOnlyDictionary<string, string> Properties, ReadOnlyMemory<byte> Payload)
{
    public PulsarTestMessage(ReadOnlyMemory<byte> payload) : this(new Dictionary<string, string>(), payload) { }
}

/// <summary>How a producer lays messages into one entry.</summary>
public abstract record PulsarEntryFormat(CompressionType Compression)
{
    /// <summary>
    /// As Milvus 2.3-2.5 writes (mq_msgstream.go AsProducer with compression, pulsar_client.go ZSTD with batching
    /// disabled, through the pinned milvus-io/pulsar-client-go v0.6.10, whose batch container still carries the
    /// message, batch_builder.go): a batch of one, num_messages_in_batch 1, the properties both in the entry's metadata
    /// and in the SingleMessageMetadata inside the ZSTD payload.
    /// </summary>
    public static PulsarEntryFormat Milvus { get; } = new BatchOfOne(CompressionType.Zstd);

    /// <summary>As newer Pulsar clients write with batching disabled: no batch container, the payload itself.</summary>
    public static PulsarEntryFormat Plain(CompressionType compression = CompressionType.None) => new PlainEntry(compression);

    /// <summary>All messages of the call in one batch entry.</summary>
    public static PulsarEntryFormat Batch(CompressionType compression = CompressionType.None) => new ManyInBatch(compression);

    public sealed record BatchOfOne(CompressionType Compression) : PulsarEntryFormat(Compression);

    public sealed record PlainEntry(CompressionType Compression) : PulsarEntryFormat(Compression);

    public sealed record ManyInBatch(CompressionType Compression) : PulsarEntryFormat(Compression);

    /// <summary>The entries (metadata and payload as sent) that hold <paramref name="messages"/> in this format.</summary>
    public IReadOnlyList<(MessageMetadata Metadata, byte[] Payload)> Entries(
        IReadOnlyList<PulsarTestMessage> messages, string producerName, Func<ulong> nextSequenceId, TimeProvider time)
    {
        var entries = new List<(MessageMetadata, byte[])>();
        switch (this)
        {
            case ManyInBatch:
                entries.Add(Entry(messages, batch: true));
                break;
            default:
                foreach (var message in messages) entries.Add(Entry([message], batch: this is BatchOfOne));
                break;
        }

        return entries;

        (MessageMetadata, byte[]) Entry(IReadOnlyList<PulsarTestMessage> inEntry, bool batch)
        {
            var raw = batch
                ? PulsarEntries.EncodeBatch(inEntry.Select(m => (m.Properties, m.Payload)))
                : inEntry[0].Payload.ToArray();
            var metadata = new MessageMetadata
            {
                ProducerName = producerName,
                SequenceId = nextSequenceId(),
                PublishTime = (ulong)time.GetUtcNow().ToUnixTimeMilliseconds(),
            };
            // The Go client v0.6.10 copies the first message's properties into the batch's metadata too.
            metadata.Properties.Add(PulsarEntries.ToKeyValues(inEntry[0].Properties));
            if (batch) metadata.NumMessagesInBatch = inEntry.Count;
            if (Compression != CompressionType.None)
            {
                metadata.Compression = Compression;
                metadata.UncompressedSize = (uint)raw.Length;
            }

            return (metadata, PulsarCompression.Compress(Compression, raw));
        }
    }
}
