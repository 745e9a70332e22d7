using Cdc.Domain.Changes;

namespace Cdc.Testing.SourceSimulator;

/// <summary>
/// The message queue a simulated source Milvus writes its msgstream messages into, one topic per channel, with the
/// msgstream properties where the queue carries them (Kafka record headers, Pulsar message properties), as Milvus'
/// mq_msgstream.go Produce/Broadcast do: <see cref="KafkaTestProducer"/> or <see cref="FakePulsar.PulsarSourceWriter"/>.
/// </summary>
public interface ISourceQueueWriter
{
    /// <summary>Writes one message to the topic of <paramref name="channel"/>; returns its id as Milvus keeps it (MsgPosition.MsgID).</summary>
    Task<SourceMessageId> WriteAsync(string channel, byte[] payload, IReadOnlyDictionary<string, string> properties, CancellationToken cancellationToken);
}
