using Cdc.Domain.Changes;

namespace Cdc.Testing.SourceSimulator;

/// <summary>One message the simulator wrote: the topic (pchannel or replicate channel), its id in the queue and timestamp.</summary>
public sealed record SimulatedMessage(string Channel, SourceMessageId Id, HybridTimestamp Timestamp, string MsgType)
{
    /// <summary>The offset of a message written to Kafka.</summary>
    public long Offset => Id is KafkaOffset kafka ? kafka.Offset : throw new InvalidOperationException($"{Id} is not a Kafka offset");
}
