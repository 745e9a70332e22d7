using Cdc.Domain.Changes;
using Cdc.Infrastructure.Decoding;

namespace Cdc.Infrastructure.Tests.Decoding;

public sealed class SourceMessageIdCodecTests
{
    [Fact]
    public void Kafka_offset_is_8_bytes_little_endian()
    {
        Assert.Equal("3930000000000000", Convert.ToHexString(SourceMessageIdCodec.ToBytes(new KafkaOffset(12345))));
        Assert.Equal(new KafkaOffset(12345), SourceMessageIdCodec.FromKafka(Convert.FromHexString("3930000000000000")));
    }

    [Fact]
    public void Kafka_id_of_wrong_length_stays_opaque()
    {
        Assert.IsType<OpaqueMessageId>(SourceMessageIdCodec.FromKafka([1, 2, 3]));
    }

    [Fact]
    public void Pulsar_id_decodes_the_position_from_a_real_checkpoint()
    {
        var id = SourceMessageIdCodec.FromPulsar(Convert.FromHexString("080110994E18002000"));

        Assert.Equal(new PulsarMessageId(1, 10009, 0, 0), id);
        Assert.Equal("080110994E18002000", Convert.ToHexString(SourceMessageIdCodec.ToBytes(id)));
    }

    [Fact]
    public void Pulsar_id_round_trips_batch_and_partition()
    {
        var id = new PulsarMessageId(123456789, 42, 3, 7);

        Assert.Equal(id, SourceMessageIdCodec.FromPulsar(SourceMessageIdCodec.ToBytes(id)));
    }

    [Fact]
    public void Pulsar_bytes_without_ledger_and_entry_stay_opaque()
    {
        Assert.IsType<OpaqueMessageId>(SourceMessageIdCodec.FromPulsar([0x18, 0x01]));
        Assert.IsType<OpaqueMessageId>(SourceMessageIdCodec.FromPulsar([0xFF, 0xFF]));
    }
}
