using Cdc.Application.Replication.Source;
using Cdc.Domain.Changes;
using Cdc.Infrastructure.Decoding;
using Cdc.Infrastructure.Source.Pulsar;
using Cdc.Infrastructure.Source.Pulsar.Protos;
using Cdc.Testing.FakePulsar;
using Google.Protobuf;
using static Cdc.Testing.FakePulsar.PulsarTestSource;

namespace Cdc.Infrastructure.Tests.Source.Pulsar;

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

    public static TheoryData<string, CompressionType> Formats()
    {
        var data = new TheoryData<string, CompressionType>();
        foreach (var format in new[] { "plain", "batch-of-one", "batch" })
        foreach (var codec in new[] { CompressionType.None, CompressionType.Lz4, CompressionType.Zlib, CompressionType.Zstd, CompressionType.Snappy })
            data.Add(format, codec);
        return data;
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public async Task Plain_entries_batches_of_one_and_batches_of_many_are_read_under_every_codec(string format, CompressionType codec)
    {
        var ct = Deadline();
        await using var broker = FakePulsarBroker.Start();
        var channel = UniqueChannel("codec");
        var topic = broker.Topic(TopicOf(channel));
        var messages = Enumerable.Range(0, 4).Select(i => Message(new string((char)('a' + i), 300 + i), ("msg_type", "Delete"), ("n", $"{i}"))).ToList();
        var entries = topic.Append(messages, format switch
        {
            "plain" => PulsarEntryFormat.Plain(codec),
            "batch-of-one" => new PulsarEntryFormat.BatchOfOne(codec),
            _ => PulsarEntryFormat.Batch(codec),
        });

        await using var reader = await Channels(broker).OpenReaderAsync(channel, SourceChannelStart.After(Earliest(channel)), ct);
        var read = await ReadAsync(reader, 4, ct);

        Assert.Equal(messages.Select(m => Text(m.Payload)), read.Select(m => Text(m.Payload)));
        Assert.Equal(["0", "1", "2", "3"], read.Select(m => m.Properties["n"]));
        Assert.All(read, m => Assert.Equal("Delete", m.Properties["msg_type"]));
        var expectedIds = format switch
        {
            "plain" => entries.Select(e => Id(e)),
            "batch-of-one" => entries.Select(e => Id(e, 0)),
            _ => Enumerable.Range(0, 4).Select(i => Id(entries[0], i)),
        };
        Assert.Equal(expectedIds, read.Select(m => m.Id));
    }

    [Fact]
    public async Task A_reader_from_latest_skips_earlier_messages_tells_where_it_starts_and_a_reader_after_that_reads_the_same()
    {
        var ct = Deadline();
        await using var broker = FakePulsarBroker.Start();
        var channel = UniqueChannel("latest");
        var topic = broker.Topic(TopicOf(channel));
        var before = topic.Append(Messages("before-", 3), PulsarEntryFormat.Milvus);

        await using var reader = await Channels(broker).OpenReaderAsync(channel, SourceChannelStart.Latest, ct);
        Assert.Equal(Position(channel, before[^1], 0).MessageId.ToArray(), reader.StartsAfter!.MessageId.ToArray());
        var after = topic.Append(Messages("after-", 2), PulsarEntryFormat.Milvus);
        var read = await ReadAsync(reader, 2, ct);
        await using var again = await Channels(broker).OpenReaderAsync(channel, SourceChannelStart.After(reader.StartsAfter), ct);
        var readAgain = await ReadAsync(again, 2, ct);

        Assert.Equal(["after-0", "after-1"], read.Select(m => Text(m.Payload)));
        Assert.Equal(after.Select(e => Id(e, 0)), read.Select(m => m.Id));
        Assert.Equal(read.Select(m => m.Id), readAgain.Select(m => m.Id));
        Assert.Null(again.StartsAfter);
    }

    [Fact]
    public async Task A_reader_from_latest_on_a_topic_nobody_wrote_yet_reads_the_first_message_and_so_does_a_reader_after_its_start()
    {
        var ct = Deadline();
        await using var broker = FakePulsarBroker.Start();
        var channel = UniqueChannel("latest-new");
        var topic = broker.Topic(TopicOf(channel));

        SourcePosition origin;
        await using (var reader = await Channels(broker).OpenReaderAsync(channel, SourceChannelStart.Latest, ct))
        {
            origin = reader.StartsAfter!;
            topic.Append([Message("first")], PulsarEntryFormat.Milvus);
            Assert.Equal("first", Text((await reader.ReadAllAsync(ct).FirstAsync(ct)).Payload));
        }

        await using var resumed = await Channels(broker).OpenReaderAsync(channel, SourceChannelStart.After(origin), ct);
        Assert.Equal("first", Text((await resumed.ReadAllAsync(ct).FirstAsync(ct)).Payload));
    }

    [Fact]
    public async Task The_newest_message_is_the_last_the_broker_holds_now_and_a_reader_reaches_it_by_reading_it()
    {
        var ct = Deadline();
        await using var broker = FakePulsarBroker.Start();
        var channel = UniqueChannel("newest");
        var topic = broker.Topic(TopicOf(channel));

        await using var reader = await Channels(broker).OpenReaderAsync(channel, SourceChannelStart.Latest, ct);
        Assert.Null(await reader.NewestAsync(ct)); // nothing written yet
        topic.Append([Message("m-0"), Message("m-1"), Message("m-2")], PulsarEntryFormat.Milvus);

        var newest = await reader.NewestAsync(ct);
        Assert.NotNull(newest);
        var read = await reader.ReadAllAsync(ct).Take(3).Select(m => new SourcePosition(channel, SourceMessageIdCodec.ToBytes(m.Id))).ToListAsync(ct);
        Assert.False(reader.Reached(read[1], newest));
        Assert.True(reader.Reached(read[2], newest)); // a batch of one's index 0 reaches its entry
    }

    [Fact]
    public async Task Resuming_after_a_position_is_exclusive_for_plain_entries_and_Milvus_batches_of_one()
    {
        var ct = Deadline();
        await using var broker = FakePulsarBroker.Start();
        var plain = UniqueChannel("resume-plain");
        var milvus = UniqueChannel("resume-milvus");
        var plainEntries = broker.Topic(TopicOf(plain)).Append(Messages("p", 6), PulsarEntryFormat.Plain());
        var milvusEntries = broker.Topic(TopicOf(milvus)).Append(Messages("m", 6), PulsarEntryFormat.Milvus);

        await using var plainReader = await Channels(broker).OpenReaderAsync(plain, SourceChannelStart.After(Position(plain, plainEntries[2])), ct);
        await using var milvusReader = await Channels(broker).OpenReaderAsync(milvus, SourceChannelStart.After(Position(milvus, milvusEntries[2], 0)), ct);

        Assert.Equal(["p3", "p4", "p5"], (await ReadAsync(plainReader, 3, ct)).Select(m => Text(m.Payload)));
        Assert.Equal(["m3", "m4", "m5"], (await ReadAsync(milvusReader, 3, ct)).Select(m => Text(m.Payload)));
    }

    [Fact]
    public async Task Resuming_inside_a_batch_skips_up_to_and_including_the_batch_index_of_the_position()
    {
        var ct = Deadline();
        await using var broker = FakePulsarBroker.Start();
        var channel = UniqueChannel("resume-batch");
        var topic = broker.Topic(TopicOf(channel));
        var batch = topic.Append(Messages("b", 5), PulsarEntryFormat.Batch(CompressionType.Lz4))[0];
        var next = topic.Append([Message("next")], PulsarEntryFormat.Milvus)[0];

        await using var reader = await Channels(broker).OpenReaderAsync(channel, SourceChannelStart.After(Position(channel, batch, 2)), ct);
        var read = await ReadAsync(reader, 3, ct);

        Assert.Equal(["b3", "b4", "next"], read.Select(m => Text(m.Payload)));
        Assert.Equal([Id(batch, 3), Id(batch, 4), Id(next, 0)], read.Select(m => m.Id));
    }

    [Fact]
    public async Task Resuming_after_the_last_message_waits_for_the_next_one_also_across_a_new_ledger()
    {
        var ct = Deadline();
        await using var broker = FakePulsarBroker.Start();
        var channel = UniqueChannel("resume-end");
        var topic = broker.Topic(TopicOf(channel));
        var last = topic.Append([Message("m0")], PulsarEntryFormat.Milvus)[0];

        await using var reader = await Channels(broker).OpenReaderAsync(channel, SourceChannelStart.After(Position(channel, last, 0)), ct);
        topic.RollLedger();
        var next = topic.Append([Message("m1")], PulsarEntryFormat.Milvus)[0];
        var read = await reader.ReadAllAsync(ct).FirstAsync(ct);

        Assert.True(next.LedgerId > last.LedgerId && next.EntryId == 0);
        Assert.Equal(("m1", Id(next, 0)), (Text(read.Payload), read.Id));
    }

    [Fact]
    public async Task Many_messages_written_while_reading_arrive_in_order_without_gaps()
    {
        var ct = Deadline(60);
        await using var broker = FakePulsarBroker.Start();
        var channel = UniqueChannel("order");
        await using var reader = await Channels(broker, o => o with { ReadAhead = 8 }).OpenReaderAsync(channel, SourceChannelStart.Latest, ct);
        await using var producer = await PulsarTestProducer.ConnectAsync(broker.ServiceUrl, TopicOf(channel), cancellationToken: ct);

        var produced = Task.Run(async () =>
        {
            for (var i = 0; i < 300; i++) await producer.SendAsync(Message($"m{i}"), cancellationToken: ct);
        }, ct);
        var read = await ReadAsync(reader, 300, ct);
        await produced;

        Assert.Equal(Enumerable.Range(0, 300).Select(i => $"m{i}"), read.Select(m => Text(m.Payload)));
        Assert.Equal(broker.Topic(TopicOf(channel)).Entries.Select(e => Id(e, 0)), read.Select(m => m.Id));
    }

    [Fact]
    public async Task A_position_of_another_channel_or_of_another_queue_is_refused()
    {
        var ct = Deadline();
        await using var broker = FakePulsarBroker.Start();
        var channels = Channels(broker);

        await Assert.ThrowsAsync<ArgumentException>(() =>
            channels.OpenReaderAsync("by-dev-rootcoord-dml_0", SourceChannelStart.After(Position("by-dev-rootcoord-dml_1", 1, 2)), ct));
        var kafka = new SourcePosition("by-dev-rootcoord-dml_0", SourceMessageIdCodec.KafkaBytes(5));
        var error = await Assert.ThrowsAsync<ArgumentException>(() => channels.OpenReaderAsync("by-dev-rootcoord-dml_0", SourceChannelStart.After(kafka), ct));
        Assert.Contains("not a Pulsar MessageIdData (0x0500000000000000)", error.Message);
    }

    [Fact]
    public async Task Cancelling_a_read_and_disposing_the_reader_stop_it_and_close_its_connection()
    {
        var ct = Deadline();
        await using var broker = FakePulsarBroker.Start();
        var channel = UniqueChannel("cancel");
        var reader = await Channels(broker).OpenReaderAsync(channel, SourceChannelStart.Latest, ct);
        using var cancel = new CancellationTokenSource();
        var reading = Task.Run(async () => await reader.ReadAllAsync(cancel.Token).ToListAsync(cancel.Token), ct);

        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading);
        await reader.DisposeAsync();
        await Until(() => broker.OpenConnections == 0 && broker.Topic(TopicOf(channel)).ConsumerCount == 0, ct);
        await reader.DisposeAsync(); // a second dispose is harmless
    }

    private static SourcePosition Earliest(string channel) => Cdc.Infrastructure.Source.Pulsar.PulsarSourceChannels.Earliest(channel);
}
