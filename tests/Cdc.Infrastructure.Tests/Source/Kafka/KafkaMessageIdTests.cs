using Cdc.Infrastructure.Source.Kafka;


namespace Cdc.Infrastructure.Tests.Source.Kafka;

public sealed class KafkaMessageIdTests
{
    [Fact]
    public void An_offset_is_8_bytes_little_endian()
    {
        Assert.Equal(new byte[] { 0x01, 0x02, 0, 0, 0, 0, 0, 0 }, KafkaMessageId.FromOffset(0x0201));
        Assert.Equal(0x0102030405060708L, KafkaMessageId.ToOffset(new byte[] { 8, 7, 6, 5, 4, 3, 2, 1 }));
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(1L)]
    [InlineData(long.MaxValue)]
    public void Round_trips(long offset) => Assert.Equal(offset, KafkaMessageId.ToOffset(KafkaMessageId.FromOffset(offset)));

    [Fact]
    public void Other_lengths_are_refused() =>
        Assert.Throws<ArgumentException>(() => KafkaMessageId.ToOffset(new byte[] { 1, 2, 3 }));
}
