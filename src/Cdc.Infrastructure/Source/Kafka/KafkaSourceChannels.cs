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
    private readonly ILogger _logger = logger ?? NullLogger<KafkaSourceChannels>.Instance;

    public async Task<ISourceChannelReader> OpenReaderAsync(
        string channel, SourceChannelStart start, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        var consumer = new ConsumerBuilder<Ignore, byte[]>(options.ToConsumerConfig())
            .SetValueDeserializer(MessageBytesDeserializer.Instance)
            .SetErrorHandler((_, e) => _logger.LogWarning("kafka consumer on {Channel}: {Code} {Reason}", channel, e.Code, e.Reason))
            .SetLogHandler((_, m) => _logger.LogDebug("librdkafka {Facility} on {Channel}: {Message}", m.Facility, channel, m.Message))
            .Build();
        try
        {
            var partition = new TopicPartition(channel, new Partition(ChannelPartition));
            var offset = start switch
            {
                SourceChannelStart.AfterPosition after => ResumeOffset(channel, after.Position) + 1,
                _ => await Task.Run(() => LatestOffset(consumer, partition), cancellationToken),
            };
            consumer.Assign(new TopicPartitionOffset(partition, new Offset(offset)));
            _logger.LogInformation("reading {Channel} partition {Partition} from offset {Offset}", channel, ChannelPartition, offset);
            // From the latest message: the offset was fixed now, so the position before it names the same start
            // (offset -1 for a topic nobody wrote yet: the exclusive seek after it is offset 0).
            var startsAfter = start is SourceChannelStart.LatestStart ? new SourcePosition(channel, KafkaMessageId.FromOffset(offset - 1)) : null;
            return new KafkaChannelReader(consumer, channel, options.ReadAhead, options.ReadBufferBytes, startsAfter);
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
    /// The high watermark: the offset the next message written will get. Fixed now, so a message written after the
    /// reader was opened is read even if the consumer starts fetching later.
    /// </summary>
    private long LatestOffset(IConsumer<Ignore, byte[]> consumer, TopicPartition partition)
    {
        try
        {
            return consumer.QueryWatermarkOffsets(partition, options.OpenTimeout).High.Value;
        }
        catch (KafkaException e) when (e.Error.Code is ErrorCode.UnknownTopicOrPart or ErrorCode.Local_UnknownTopic
                                           or ErrorCode.Local_UnknownPartition)
        {
            // No such topic yet: nothing was written, so everything that will be written is "later".
            return 0;
        }
    }
}
