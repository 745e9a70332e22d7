namespace Cdc.Application.Replication.Source;

/// <summary>
/// A checkpoint in a source channel: the id of the last message handled. Kept by the CDC server, never by the MQ's
/// consumer group. Resuming from it is exclusive: the message with this id is not read again.
/// </summary>
/// <param name="Channel">The pchannel.</param>
/// <param name="MessageId">The MQ message id bytes (Kafka: 8-byte little-endian offset).</param>
public sealed record SourcePosition(string Channel, ReadOnlyMemory<byte> MessageId);
