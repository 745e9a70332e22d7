using Cdc.Application.Replication.Source;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cdc.Infrastructure.Source.Kafka;

/// <summary>
/// The source Milvus' Kafka: each pchannel is a topic whose partition 0 holds the channel. Readers assign that
/// partition directly (no group subscription, no commits); positions are kept by the CDC server.
/// </summary>
public sealed class KafkaSourceChannels(KafkaSourceOptions options, ILogger<KafkaSourceChannels>? logger = null)
    : ISourceChannels
{
    private const int ChannelPartition = 0;

    /// <summary>How much earlier than a start time a reader seeks (see <see cref="SourceChannelStart.AtTimeStart"/>).</summary>
    public static readonly TimeSpan TimeSeekMargin = TimeSpan.FromMinutes(1);
    private readonly ILogger _logger = logger ?? NullLogger<KafkaSourceChannels>.Instance;

    /// <summary>Where the readers rent the arrays of large messages (tests watch it); null: the shared pool.</summary>
    internal System.Buffers.ArrayPool<byte>? MessagePool { get; init; }

    public async Task<ISourceChannelReader> OpenReaderAsync(
        string channel, SourceChannelStart start, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        var values = MessagePool is { } pool ? new MessageBytesDeserializer(pool) : MessageBytesDeserializer.Shared;
        var consumer = new ConsumerBuilder<Ignore, ArraySegment<byte>>(options.ToConsumerConfig())
            .SetValueDeserializer(values)
            .SetErrorHandler((_, e) => _logger.LogWarning("kafka consumer on {Channel}: {Code} {Reason}", channel, e.Code, e.Reason))
            .SetLogHandler((_, m) => _logger.LogDebug("librdkafka {Facility} on {Channel}: {Message}", m.Facility, channel, m.Message))
            .Build();
        try
        {
            var partition = new TopicPartition(channel, new Partition(ChannelPartition));
            var offset = await Task.Run(() => StartOffset(consumer, partition, start), cancellationToken);
            consumer.Assign(new TopicPartitionOffset(partition, new Offset(offset)));
            _logger.LogInformation("reading {Channel} partition {Partition} from offset {Offset}", channel, ChannelPartition, offset);
            // From the latest message: the offset was fixed now, so the position before it names the same start
            // (offset -1 for a topic nobody wrote yet: the exclusive seek after it is offset 0).
            var startsAfter = start is SourceChannelStart.LatestStart ? new SourcePosition(channel, KafkaMessageId.FromOffset(offset - 1)) : null;
            return new KafkaChannelReader(consumer, channel, options.ReadAhead, options.ReadBufferBytes, startsAfter, offset, options.OpenTimeout, values.Pool);
        }
        catch (KafkaException e)
        {
            consumer.Dispose();
            throw new SourceChannelException(channel, $"cannot open a reader: {e.Error.Code}: {e.Error.Reason}", e);
        }
        catch
        {
            consumer.Dispose();
            throw;
        }
    }

    /// <summary>The offset of a position of this channel (the exclusive seek to a checkpoint adds one).</summary>
    private static long ResumeOffset(string channel, SourcePosition position)
    {
        if (position.Channel != channel)
            throw new ArgumentException($"the position belongs to channel {position.Channel}, not {channel}", nameof(position));
        return KafkaMessageId.ToOffset(position.MessageId.Span);
    }

    /// <summary>
    /// The first offset to read. The latest start is the high watermark (the offset the next message written will get),
    /// fixed now so that a message written after the reader was opened is read even if the consumer starts fetching
    /// later; the earliest is the low watermark; a time is the first offset whose message was stored at or after it.
    /// A resume whose next offset the topic no longer holds (retention deleted it) is refused: reading on from the
    /// oldest message kept would skip the lost range without a word.
    /// </summary>
    private long StartOffset(IConsumer<Ignore, ArraySegment<byte>> consumer, TopicPartition partition, SourceChannelStart start)
    {
        var channel = partition.Topic;
        switch (start)
        {
            case SourceChannelStart.AfterPosition after:
                var next = ResumeOffset(channel, after.Position) + 1;
                var low = Watermarks(consumer, partition).Low;
                if (next < low) throw new SourceChannelException(channel, RetentionLost(next, low), retryable: false);
                return next;
            case SourceChannelStart.EarliestStart:
                return Watermarks(consumer, partition).Low;
            case SourceChannelStart.AtTimeStart at:
                // Kafka seeks by the time it stored with each message (the producer's clock), the reading stage filters
                // by the Milvus timestamp: seek a margin earlier so that a producer clock behind Milvus' loses nothing.
                var seek = at.Time - TimeSeekMargin;
                var found = consumer.OffsetsForTimes([new TopicPartitionTimestamp(partition, new Timestamp(seek))], options.OpenTimeout);
                // No message that late: the next one written is the first.
                return found is [{ Offset.Value: >= 0 } hit] ? hit.Offset.Value : Watermarks(consumer, partition).High;
            default:
                return Watermarks(consumer, partition).High;
        }
    }

    private (long Low, long High) Watermarks(IConsumer<Ignore, ArraySegment<byte>> consumer, TopicPartition partition)
    {
        try
        {
            var marks = consumer.QueryWatermarkOffsets(partition, options.OpenTimeout);
            return (marks.Low.Value, marks.High.Value);
        }
        catch (KafkaException e) when (e.Error.Code is ErrorCode.UnknownTopicOrPart or ErrorCode.Local_UnknownTopic
                                           or ErrorCode.Local_UnknownPartition)
        {
            // No such topic yet: nothing was written, so everything that will be written is "later".
            return (0, 0);
        }
    }

    /// <summary>
    /// Why a reader cannot go on without losing messages: the task pauses with this reason (a non-retryable
    /// <see cref="SourceChannelException"/> names the channel).
    /// </summary>
    internal static string RetentionLost(long next, long low) => low > next + 1
        ? $"offsets {next} to {low - 1} were deleted from the topic (retention) before they were replicated; the oldest offset kept is {low}"
        : $"offset {next} was deleted from the topic (retention) before it was replicated; the oldest offset kept is {low}";
}
