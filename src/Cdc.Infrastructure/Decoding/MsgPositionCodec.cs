using Cdc.Application.Replication.Source;
using Cdc.Infrastructure.Milvus.Protos.Msg;
using Google.Protobuf;

namespace Cdc.Infrastructure.Decoding;

/// <summary>Base64 of a <c>msg.MsgPosition</c> (channel_name = 1, msgID = 2, msgGroup = 3, timestamp = 4).</summary>
public sealed class MsgPositionCodec : ISourcePositionCodec
{
    public MsgPositionToken Decode(string base64)
    {
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(base64);
        }
        catch (FormatException)
        {
            throw new FormatException("the position is not base64");
        }

        MsgPosition position;
        try
        {
            position = MsgPosition.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new FormatException($"the position is not a MsgPosition: {ex.Message}");
        }

        if (position.MsgID.IsEmpty) throw new FormatException("the position has no msgID");
        return new MsgPositionToken(position.ChannelName, position.MsgID.ToByteArray(), position.Timestamp);
    }

    /// <summary>The base64 MsgPosition of a message (for tools and tests).</summary>
    public static string Encode(string channelName, byte[] messageId, ulong timestamp) =>
        Convert.ToBase64String(new MsgPosition { ChannelName = channelName, MsgID = ByteString.CopyFrom(messageId), Timestamp = timestamp }.ToByteArray());
}
