using Cdc.Application.Replication.Ports;
using Cdc.Domain.Changes;
using Cdc.Infrastructure.Milvus;
using Cdc.Infrastructure.Pulsar.Protos;
using Cdc.Testing.FakePulsar;
using Google.Protobuf;
using static Cdc.Infrastructure.Tests.Pulsar.PulsarTestSource;

namespace Cdc.Infrastructure.Tests.Pulsar;

public sealed class PulsarChannelReaderTests
{
    [Fact]
    public async Task Entries_written_as_Milvus_writes_them_are_read_with_their_properties_and_the_ids_Milvus_stores()
    {
        var ct = Deadline();
        await using var broker = FakePulsarBroker.Start();
        var channel = UniqueChannel("milvus");
        var topic = broker.Topic(TopicOf(channel));
        await using var producer = await PulsarTestProducer.ConnectAsync(broker.ServiceUrl, topic.Name, cancellationToken: ct);
        var written = new List<MessageIdData>();
        for (var i = 0; i < 3; i++)
        {
            written.Add(await producer.SendAsync(Message($"insert-{i}", ("msg_type", "Insert"), ("vchannel", $"{channel}_{i}v0"),
                ("timestamp", $"44{i}"), ("replicate_id", "")), cancellationToken: ct));
        }

        await using var reader = await Channels(broker).OpenReaderAsync(channel, SourceChannelStart.After(Earliest(channel)), ct);
        var read = await ReadAsync(reader, 3, ct);

        Assert.Equal(["insert-0", "insert-1", "insert-2"], read.Select(m => Text(m.Payload)));
        Assert.All(read, m => Assert.Equal(channel, m.Channel));
        Assert.Equal(written.Select(w => new PulsarMessageId(w.LedgerId, w.EntryId, 0, 0)), read.Select(m => m.Id));
        Assert.Equal("Insert", read[1].Properties["msg_type"]);
        Assert.Equal($"{channel}_1v0", read[1].Properties["vchannel"]);
        Assert.Equal("441", read[1].Properties["timestamp"]);
        Assert.Equal("", read[1].Properties["replicate_id"]);
        // The bytes a checkpoint of the first message holds: ledger, entry, partition 0, batch index 0.
        Assert.Equal(new MessageIdData { LedgerId = written[0].LedgerId, EntryId = written[0].EntryId, Partition = 0, BatchIndex = 0 }.ToByteArray(),
            SourceMessageIdCodec.ToBytes(read[0].Id));
        // Stored as a Milvus producer sends it: a ZSTD batch of one.
        Assert.All(topic.Entries, e => Assert.True(e.Metadata.Compression == CompressionType.Zstd && e.Metadata.NumMessagesInBatch == 1 && e.Metadata.HasNumMessagesInBatch));
    }

    private static SourcePosition Earliest(string channel) => Cdc.Infrastructure.Pulsar.PulsarSourceChannels.Earliest(channel);
}
