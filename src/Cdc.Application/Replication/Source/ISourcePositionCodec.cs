namespace Cdc.Application.Replication.Source;

/// <summary>A Milvus MsgPosition as users pass it (base64 of its protobuf), e.g. <c>rpc_channel_info.position</c>.</summary>
/// <param name="ChannelName">The channel the position was taken on (may be empty).</param>
/// <param name="MessageId">The MQ message id (Kafka: 8-byte little-endian offset).</param>
/// <param name="Timestamp">The hybrid timestamp of the position (0 when not set).</param>
public sealed record MsgPositionToken(string ChannelName, byte[] MessageId, ulong Timestamp);

/// <summary>Reads base64 MsgPositions.</summary>
public interface ISourcePositionCodec
{
    /// <summary>The position in <paramref name="base64"/>.</summary>
    /// <exception cref="FormatException">Not base64, not a MsgPosition, or without a message id; the message says which.</exception>
    MsgPositionToken Decode(string base64);
}
