using System.Text;
using Cdc.Domain.Changes;
using Cdc.Testing.SourceSimulator;
using Confluent.Kafka;

namespace Cdc.Testing;

/// <summary>
/// Writes messages into partition 0 of a topic, as the source Milvus writes its pchannels: for tests and for the
/// source simulator. Topics need no creation: the broker (the mock cluster too) creates them on first use.
/// </summary>
public sealed class KafkaTestProducer : ISourceQueueWriter, IDisposable
{
    private readonly IProducer<Null, byte[]> _producer;

    /// <param name="bootstrapServers">The broker(s).</param>
    /// <param name="messageMaxBytes">
    /// The largest message the producer sends (librdkafka's message.max.bytes, 1,000,000 unless set): raise it for
    /// Milvus-sized inserts (a 1,000-row batch of 768-dim vectors is about 3 MB).
    /// </param>
    public KafkaTestProducer(string bootstrapServers, int? messageMaxBytes = null)
    {
        _producer = new ProducerBuilder<Null, byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrapServers,
            Acks = Acks.All,
            LingerMs = 0,
            MessageTimeoutMs = 15000,
            MessageMaxBytes = messageMaxBytes,
        }).Build();
    }

    /// <summary>Writes one message to partition 0 of <paramref name="topic"/>; returns its offset.</summary>
    public async Task<long> ProduceAsync(
        string topic, byte[] payload, IReadOnlyDictionary<string, string>? headers, CancellationToken cancellationToken)
    {
        var message = new Message<Null, byte[]> { Value = payload, Headers = new Headers() };
        foreach (var (key, value) in headers ?? new Dictionary<string, string>())
            message.Headers.Add(key, Encoding.UTF8.GetBytes(value));
        var result = await _producer.ProduceAsync(new TopicPartition(topic, new Partition(0)), message, cancellationToken);
        return result.Offset.Value;
    }

    /// <summary>Writes one message to partition 0 of the channel's topic; its id is the offset.</summary>
    public async Task<SourceMessageId> WriteAsync(
        string channel, byte[] payload, IReadOnlyDictionary<string, string> properties, CancellationToken cancellationToken) =>
        new KafkaOffset(await ProduceAsync(channel, payload, properties, cancellationToken));

    /// <summary>The number of partitions the broker reports for <paramref name="topic"/> (creating it if it is new).</summary>
    public int PartitionCount(string topic, TimeSpan timeout)
    {
        using var admin = new DependentAdminClientBuilder(_producer.Handle).Build();
        var metadata = admin.GetMetadata(topic, timeout);
        return metadata.Topics.Single(t => t.Topic == topic).Partitions.Count;
    }

    public void Dispose()
    {
        _producer.Flush(TimeSpan.FromSeconds(5));
        _producer.Dispose();
    }
}
