using Cdc.Domain.Changes;
using Cdc.Infrastructure.Milvus;
using System.Diagnostics;
using System.Text;
using Cdc.Application.Replication.Ports;
using Cdc.Infrastructure.Kafka;
using Cdc.Testing;

namespace Cdc.Infrastructure.Tests.Kafka;

public sealed class KafkaChannelReaderTests
{
    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);
    private static string Text(ReadOnlyMemory<byte> b) => Encoding.UTF8.GetString(b.Span);

    [Fact]
    public async Task Topics_are_created_on_first_use_and_the_channel_is_partition_0()
    {
        var ct = KafkaTestBroker.Deadline();
        using var producer = KafkaTestBroker.Producer();
        var topic = KafkaTestBroker.UniqueTopic("autocreate");

        var first = await producer.ProduceAsync(topic, Utf8("a"), null, ct);
        var second = await producer.ProduceAsync(topic, Utf8("b"), null, ct);

        Assert.Equal(0, first);
        Assert.Equal(1, second);
        // The mock cluster auto-creates topics with 4 partitions (checked on librdkafka 2.0.2); the channel is partition 0.
        Assert.True(producer.PartitionCount(topic, TimeSpan.FromSeconds(10)) >= 1);
    }

    [Fact]
    public async Task A_reader_from_latest_skips_earlier_messages_and_reads_later_ones()
    {
        var ct = KafkaTestBroker.Deadline();
        using var producer = KafkaTestBroker.Producer();
        var topic = KafkaTestBroker.UniqueTopic("latest");
        for (var i = 0; i < 3; i++) await producer.ProduceAsync(topic, Utf8($"before-{i}"), null, ct);

        await using var reader = await KafkaTestBroker.Channels().OpenReaderAsync(topic, SourceChannelStart.Latest, ct);
        for (var i = 0; i < 2; i++) await producer.ProduceAsync(topic, Utf8($"after-{i}"), null, ct);
        var read = await reader.ReadAllAsync(ct).Take(2).ToListAsync(ct);

        Assert.Equal(["after-0", "after-1"], read.Select(m => Text(m.Payload)));
        Assert.Equal([3L, 4L], read.Select(m => ((KafkaOffset)m.Id).Offset));
        Assert.All(read, m => Assert.Equal(topic, m.Channel));
    }

    [Fact]
    public async Task A_reader_from_latest_on_a_topic_nobody_wrote_yet_reads_the_first_message()
    {
        var ct = KafkaTestBroker.Deadline();
        using var producer = KafkaTestBroker.Producer();
        var topic = KafkaTestBroker.UniqueTopic("latest-new");

        await using var reader = await KafkaTestBroker.Channels().OpenReaderAsync(topic, SourceChannelStart.Latest, ct);
        await producer.ProduceAsync(topic, Utf8("first"), null, ct);
        var read = await reader.ReadAllAsync(ct).FirstAsync(ct);

        Assert.Equal("first", Text(read.Payload));
        Assert.Equal(new KafkaOffset(0), read.Id);
    }

    [Fact]
    public async Task Resuming_after_a_position_seeks_exclusively_to_the_next_message()
    {
        var ct = KafkaTestBroker.Deadline();
        using var producer = KafkaTestBroker.Producer();
        var topic = KafkaTestBroker.UniqueTopic("resume");
        for (var i = 0; i < 10; i++) await producer.ProduceAsync(topic, Utf8($"m{i}"), null, ct);
        var checkpoint = new SourcePosition(topic, KafkaMessageId.FromOffset(5));

        await using var reader = await KafkaTestBroker.Channels().OpenReaderAsync(topic, SourceChannelStart.After(checkpoint), ct);
        var read = await reader.ReadAllAsync(ct).Take(4).ToListAsync(ct);

        Assert.Equal(["m6", "m7", "m8", "m9"], read.Select(m => Text(m.Payload)));
        Assert.Equal([6L, 7L, 8L, 9L], read.Select(m => ((KafkaOffset)m.Id).Offset));
    }

    [Fact]
    public async Task Resuming_after_the_last_message_waits_for_the_next_one()
    {
        var ct = KafkaTestBroker.Deadline();
        using var producer = KafkaTestBroker.Producer();
        var topic = KafkaTestBroker.UniqueTopic("resume-end");
        var last = await producer.ProduceAsync(topic, Utf8("m0"), null, ct);

        await using var reader = await KafkaTestBroker.Channels().OpenReaderAsync(
            topic, SourceChannelStart.After(new SourcePosition(topic, KafkaMessageId.FromOffset(last))), ct);
        await producer.ProduceAsync(topic, Utf8("m1"), null, ct);

        Assert.Equal("m1", Text((await reader.ReadAllAsync(ct).FirstAsync(ct)).Payload));
    }

    [Fact]
    public async Task Payload_bytes_headers_and_message_ids_round_trip()
    {
        var ct = KafkaTestBroker.Deadline();
        using var producer = KafkaTestBroker.Producer();
        var topic = KafkaTestBroker.UniqueTopic("roundtrip");
        byte[] payload = [0, 1, 2, 0xFF, 0xFE, 0x80, 0x0A];
        var headers = new Dictionary<string, string>
        {
            ["msg_type"] = "Insert",
            ["collection_id"] = "445993766148522019",
            ["note"] = "non-ASCII ✓ ü",
            ["empty"] = "",
        };
        await producer.ProduceAsync(topic, Utf8("skip"), null, ct);
        var offset = await producer.ProduceAsync(topic, payload, headers, ct);

        await using var reader = await KafkaTestBroker.Channels().OpenReaderAsync(
            topic, SourceChannelStart.After(new SourcePosition(topic, KafkaMessageId.FromOffset(offset - 1))), ct);
        var message = await reader.ReadAllAsync(ct).FirstAsync(ct);

        Assert.Equal(payload, message.Payload.ToArray());
        Assert.Equal(headers.OrderBy(h => h.Key), message.Properties.OrderBy(h => h.Key));
        Assert.Equal(new KafkaOffset(offset), message.Id);
        Assert.Equal(KafkaMessageId.FromOffset(offset), SourceMessageIdCodec.ToBytes(message.Id));
        Assert.Equal(new byte[] { 1, 0, 0, 0, 0, 0, 0, 0 }, SourceMessageIdCodec.ToBytes(message.Id));
    }

    [Fact]
    public async Task Many_messages_arrive_in_order_without_gaps()
    {
        var ct = KafkaTestBroker.Deadline();
        using var producer = KafkaTestBroker.Producer();
        var topic = KafkaTestBroker.UniqueTopic("order");
        await using var reader = await KafkaTestBroker.Channels().OpenReaderAsync(topic, SourceChannelStart.Latest, ct);

        var produced = Task.Run(async () =>
        {
            for (var i = 0; i < 300; i++) await producer.ProduceAsync(topic, Utf8($"m{i}"), null, ct);
        }, ct);
        var read = await reader.ReadAllAsync(ct).Take(300).ToListAsync(ct);
        await produced;

        Assert.Equal(Enumerable.Range(0, 300).Select(i => (long)i), read.Select(m => ((KafkaOffset)m.Id).Offset));
        Assert.Equal(Enumerable.Range(0, 300).Select(i => $"m{i}"), read.Select(m => Text(m.Payload)));
    }

    [Fact]
    public async Task Cancelling_a_read_and_disposing_the_reader_stop_it_promptly()
    {
        var ct = KafkaTestBroker.Deadline();
        var topic = KafkaTestBroker.UniqueTopic("cancel");
        var reader = await KafkaTestBroker.Channels().OpenReaderAsync(topic, SourceChannelStart.Latest, ct);
        using var cancel = new CancellationTokenSource();
        var reading = Task.Run(async () => await reader.ReadAllAsync(cancel.Token).ToListAsync(cancel.Token));
        await Task.Delay(300, ct);

        var watch = Stopwatch.StartNew();
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading.WaitAsync(TimeSpan.FromSeconds(5), ct));
        await reader.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10), ct);

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"stopping took {watch.Elapsed}");
        await reader.DisposeAsync(); // a second dispose is harmless
    }

    [Fact]
    public async Task A_position_of_another_channel_is_refused()
    {
        var ct = KafkaTestBroker.Deadline();
        var position = new SourcePosition("by-dev-rootcoord-dml_1", KafkaMessageId.FromOffset(3));
        await Assert.ThrowsAsync<ArgumentException>(() =>
            KafkaTestBroker.Channels().OpenReaderAsync("by-dev-rootcoord-dml_0", SourceChannelStart.After(position), ct));
    }
}
