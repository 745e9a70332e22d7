using Cdc.Domain.Changes;
using Cdc.Infrastructure.Decoding;
using Cdc.Infrastructure.Milvus.Protos.Common;
using Cdc.Infrastructure.Milvus.Protos.Msg;
using Cdc.Infrastructure.Target;

namespace Cdc.Infrastructure.Tests.Target;

public sealed class ControlMessageFactoryTests
{
    [Fact]
    public void The_CDC_time_tick_is_a_TimeTickMsg_with_msgID_0_and_sourceID_minus_1()
    {
        var ts = HybridTimestamp.FromParts(1_723_104_195_025, 7);

        var bytes = new ControlMessageFactory().BuildTimeTick(ts);

        var tick = TimeTickMsg.Parser.ParseFrom(bytes);
        Assert.Equal(MsgType.TimeTick, tick.Base.MsgType);
        Assert.Equal(0, tick.Base.MsgID);
        Assert.Equal(ts.Value, tick.Base.Timestamp);
        Assert.Equal(-1, tick.Base.SourceID);
        Assert.Null(tick.Base.ReplicateInfo);
        Assert.Equal(MsgType.TimeTick, MsgHeader.Parser.ParseFrom(bytes).Base.MsgType);
    }

    [Fact]
    public void The_time_tick_decodes_as_a_time_tick_change()
    {
        var ts = HybridTimestamp.FromParts(1_723_104_195_025);
        var message = new SourceMessage("by-dev-rootcoord-dml_0", new KafkaOffset(1), new Dictionary<string, string>(), new ControlMessageFactory().BuildTimeTick(ts));

        var change = Assert.IsType<TimeTickChange>(new MsgStreamDecoder().DecodeOrThrow(message));

        Assert.Equal(ts, change.Timestamp);
        Assert.Equal(-1, change.Origin.SourceId);
    }

    [Fact]
    public void Message_ids_encode_as_Milvus_stores_them()
    {
        var encoder = new SourceMessageIdEncoder();

        Assert.Equal("3930000000000000", Convert.ToHexString(encoder.Encode(new KafkaOffset(12345))));
        Assert.Equal("080110994E18002000", Convert.ToHexString(encoder.Encode(new PulsarMessageId(1, 10009, 0, 0))));
    }
}
