namespace Cdc.Application.Replication.Source;

/// <summary>
/// A place in a source channel: the id of a message, as the bytes Milvus keeps as MsgPosition.msgID (Kafka: the
/// offset as 8 bytes little-endian; Pulsar: the serialized MessageIdData). As a checkpoint it is the last message
/// handled, kept by the CDC server, never by the MQ's consumer group; resuming from it is exclusive: the message with
/// this id is not read again. This type owns the checkpoint form (base64 of the bytes), which get's <c>msg_id</c> and
/// the <c>ChannelCheckpointed</c> events hold.
/// </summary>
/// <param name="Channel">The pchannel.</param>
/// <param name="MessageId">The MQ message id bytes.</param>
public sealed record SourcePosition(string Channel, ReadOnlyMemory<byte> MessageId)
{
    /// <summary>The checkpoint form of the position: base64 of the message id bytes.</summary>
    public string ToCheckpoint() => Convert.ToBase64String(MessageId.Span);

    /// <summary>The position a checkpoint names.</summary>
    /// <exception cref="FormatException">The checkpoint is not base64.</exception>
    public static SourcePosition FromCheckpoint(string channel, string checkpoint) => new(channel, Convert.FromBase64String(checkpoint));

    /// <summary>For messages: the checkpoint form and the bytes in hex.</summary>
    public string Describe() => $"position {ToCheckpoint()} (0x{Convert.ToHexString(MessageId.Span)})";
}
