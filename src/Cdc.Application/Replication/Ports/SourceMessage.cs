namespace Cdc.Application.Replication.Ports;

/// <summary>One message read from a source channel (a Milvus pchannel: a Kafka topic, partition 0).</summary>
/// <param name="Channel">The pchannel the message was read from.</param>
/// <param name="Payload">The message bytes (a marshalled msgstream message).</param>
/// <param name="Properties">Message properties (Kafka headers), values decoded as UTF-8.</param>
/// <param name="MessageId">The MQ message id, as Milvus stores it in a MsgPosition (Kafka: 8-byte little-endian offset).</param>
/// <param name="Offset">The position of the message in its channel (Kafka: the partition offset).</param>
public sealed record SourceMessage(
    string Channel,
    ReadOnlyMemory<byte> Payload,
    IReadOnlyDictionary<string, string> Properties,
    ReadOnlyMemory<byte> MessageId,
    long Offset)
{
    /// <summary>The position to resume after this message.</summary>
    public SourcePosition Position => new(Channel, MessageId);
}
