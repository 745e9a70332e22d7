using System.Diagnostics;
using System.Text;
using Cdc.Application.Replication.Source;
using Cdc.Domain.Changes;
using Cdc.Infrastructure.Decoding;
using Cdc.Infrastructure.Source.Kafka;
using Cdc.Testing;

namespace Cdc.Infrastructure.Tests.Source.Kafka;

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
    public async Task The_newest_message_is_the_one_below_the_high_watermark_now_and_a_reader_reaches_it_by_reading_it()
    {
        var ct = KafkaTestBroker.Deadline();
        using var producer = KafkaTestBroker.Producer();
        var topic = KafkaTestBroker.UniqueTopic("newest");

        await using var reader = await KafkaTestBroker.Channels().OpenReaderAsync(topic, SourceChannelStart.Latest, ct);
        Assert.Null(await reader.NewestAsync(ct)); // nothing written yet
        for (var i = 0; i < 3; i++) await producer.ProduceAsync(topic, Utf8($"m-{i}"), null, ct);

        var newest = await reader.NewestAsync(ct);
        Assert.Equal(2L, KafkaMessageId.ToOffset(newest!.MessageId.Span));
        var read = await reader.ReadAllAsync(ct).Take(3).Select(m => new SourcePosition(topic, SourceMessageIdCodec.ToBytes(m.Id))).ToListAsync(ct);
        Assert.False(reader.Reached(read[1], newest));
        Assert.True(reader.Reached(read[2], newest));
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

    [Fact]
    public async Task A_reader_nobody_takes_from_holds_at_most_its_byte_and_message_caps_then_delivers_everything_in_order()
    {
        var ct = KafkaTestBroker.Deadline(60);
        using var producer = KafkaTestBroker.Producer();
        var topic = KafkaTestBroker.UniqueTopic("capped");
        const int size = 100_000;
        for (var i = 0; i < 30; i++)
        {
            var payload = new byte[size];
            payload[0] = (byte)i;
            await producer.ProduceAsync(topic, payload, null, ct);
        }

        var channels = new KafkaSourceChannels(new KafkaSourceOptions { Address = KafkaTestBroker.Bootstrap, ReadAhead = 20, ReadBufferBytes = 350_000 });
        await using var reader = await channels.OpenReaderAsync(topic, SourceChannelStart.After(new SourcePosition(topic, KafkaMessageId.FromOffset(-1))), ct);

        // Nobody reads: the consumer fills the buffer up to the byte cap (3 whole messages) and waits there.
        var deadline = Stopwatch.StartNew();
        while (reader.BufferedMessages < 3 && deadline.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(50, ct);
        await Task.Delay(1000, ct);
        Assert.Equal(3, reader.BufferedMessages);
        Assert.Equal(3 * size, reader.BufferedBytes);

        var read = await reader.ReadAllAsync(ct).Take(30).ToListAsync(ct);
        Assert.Equal(Enumerable.Range(0, 30).Select(i => (long)i), read.Select(m => ((KafkaOffset)m.Id).Offset));
        Assert.Equal(Enumerable.Range(0, 30).Select(i => (byte)i), read.Select(m => m.Payload.Span[0]));
    }

    [Fact]
    public async Task The_message_cap_holds_when_the_messages_are_small()
    {
        var ct = KafkaTestBroker.Deadline(60);
        using var producer = KafkaTestBroker.Producer();
        var topic = KafkaTestBroker.UniqueTopic("capped-small");
        for (var i = 0; i < 50; i++) await producer.ProduceAsync(topic, Utf8($"m{i}"), null, ct);

        var channels = new KafkaSourceChannels(new KafkaSourceOptions { Address = KafkaTestBroker.Bootstrap, ReadAhead = 4 });
        await using var reader = await channels.OpenReaderAsync(topic, SourceChannelStart.After(new SourcePosition(topic, KafkaMessageId.FromOffset(-1))), ct);
        await Task.Delay(1500, ct);
        // The bounded hand-over holds 4; the consumer thread holds the fifth it is waiting to hand over.
        Assert.InRange(reader.BufferedMessages, 4, 5);
        var read = await reader.ReadAllAsync(ct).Take(50).ToListAsync(ct);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"m{i}"), read.Select(m => Text(m.Payload)));
    }

    [Fact]
    public async Task A_reader_from_latest_tells_where_it_starts_and_a_seek_after_that_reads_the_same_messages()
    {
        var ct = KafkaTestBroker.Deadline();
        using var producer = KafkaTestBroker.Producer();
        var fresh = KafkaTestBroker.UniqueTopic("starts-after-new");
        var used = KafkaTestBroker.UniqueTopic("starts-after");
        for (var i = 0; i < 3; i++) await producer.ProduceAsync(used, Utf8($"before-{i}"), null, ct);

        await using (var reader = await KafkaTestBroker.Channels().OpenReaderAsync(used, SourceChannelStart.Latest, ct))
            Assert.Equal(2L, KafkaMessageId.ToOffset(reader.StartsAfter!.MessageId.Span));
        SourcePosition origin;
        await using (var reader = await KafkaTestBroker.Channels().OpenReaderAsync(fresh, SourceChannelStart.Latest, ct))
            origin = reader.StartsAfter!;
        Assert.Equal(fresh, origin.Channel);

        // Written after the reader that told its start went away: a reader opened after that start reads it all.
        await producer.ProduceAsync(fresh, Utf8("first"), null, ct);
        await using var resumed = await KafkaTestBroker.Channels().OpenReaderAsync(fresh, SourceChannelStart.After(origin), ct);
        Assert.Null(resumed.StartsAfter);
        Assert.Equal("first", Text((await resumed.ReadAllAsync(ct).FirstAsync(ct)).Payload));
    }

    [Fact]
    public async Task A_large_message_s_array_goes_back_to_the_pool_only_once_the_caller_completed_it()
    {
        var ct = KafkaTestBroker.Deadline(60);
        using var producer = KafkaTestBroker.Producer();
        var topic = KafkaTestBroker.UniqueTopic("pooled");
        const int large = 100_000; // an Insert's size class: rented
        for (var i = 0; i < 4; i++)
        {
            var payload = new byte[large];
            payload.AsSpan().Fill((byte)(i + 1));
            await producer.ProduceAsync(topic, payload, null, ct);
            await producer.ProduceAsync(topic, Utf8($"tick-{i}"), null, ct); // small: an array of its own
        }

        var pool = new RecordingPool();
        var channels = new KafkaSourceChannels(new KafkaSourceOptions { Address = KafkaTestBroker.Bootstrap, ReadAhead = 2 }) { MessagePool = pool };
        await using (var reader = await channels.OpenReaderAsync(topic, SourceChannelStart.After(new SourcePosition(topic, KafkaMessageId.FromOffset(-1))), ct))
        {
            var read = await reader.ReadAllAsync(ct).Take(6).ToListAsync(ct);
            var waited = Stopwatch.StartNew();
            while (reader.BufferedMessages < 2 && waited.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(20, ct);

            // Six messages read (three large), none completed: nothing went back, so no payload can have been overwritten.
            Assert.Empty(pool.Returned);
            Assert.Equal(4, pool.Rented.Count); // the fourth large one waits in the reader's buffer
            reader.Completed(new SourcePosition(topic, KafkaMessageId.FromOffset(2))); // offsets 0..2: large 0 and 1, small tick-0
            Assert.Equal(pool.Rented.Take(2), pool.Returned);
            Assert.All(read[4].Payload.ToArray(), b => Assert.Equal(3, b)); // large 2 (offset 4) untouched

            reader.Completed(new SourcePosition(topic, KafkaMessageId.FromOffset(3))); // a small message: nothing more to return
            Assert.Equal(2, pool.Returned.Count);
            reader.Completed(new SourcePosition(topic, KafkaMessageId.FromOffset(5)));
            Assert.Equal(pool.Rented.Take(3), pool.Returned);
        }

        // Disposed: the large message read from Kafka but never handed out went back too; no array went back twice.
        Assert.Equal(pool.Rented, pool.Returned);
    }

    /// <summary>The shared pool, with the arrays it lent and got back, in order.</summary>
    private sealed class RecordingPool : System.Buffers.ArrayPool<byte>
    {
        private readonly List<byte[]> _rented = [];
        private readonly List<byte[]> _returned = [];

        public IReadOnlyList<byte[]> Rented { get { lock (_rented) return [.. _rented]; } }

        public IReadOnlyList<byte[]> Returned { get { lock (_rented) return [.. _returned]; } }

        public override byte[] Rent(int minimumLength)
        {
            var array = new byte[minimumLength + 7]; // longer than asked, as a pool's arrays are
            lock (_rented) _rented.Add(array);
            return array;
        }

        public override void Return(byte[] array, bool clearArray = false)
        {
            lock (_rented) _returned.Add(array);
        }
    }
}
