using Cdc.Domain.Changes;

namespace Cdc.Domain.Tests.Changes;

public sealed class HybridTimestampTests
{
    [Fact]
    public void Splits_a_real_milvus_timestamp_into_physical_ms_and_logical()
    {
        // From a checkpoint in zilliztech/milvus-cdc#105: physical 1723104195025 ms, logical 1.
        var ts = new HybridTimestamp(451701426100633601);

        Assert.Equal(1723104195025, ts.PhysicalMilliseconds);
        Assert.Equal(1, ts.Logical);
        Assert.Equal(new DateTimeOffset(2024, 8, 8, 8, 3, 15, 25, TimeSpan.Zero), ts.PhysicalTime);
    }

    [Fact]
    public void Composes_physical_shifted_by_18_bits_with_logical()
    {
        Assert.Equal(451701426100633601UL, HybridTimestamp.FromParts(1723104195025, 1).Value);
        Assert.Equal((1UL << 18) | 5, HybridTimestamp.FromParts(1, 5).Value);
    }

    [Fact]
    public void Resume_timestamp_is_the_next_physical_millisecond()
    {
        Assert.Equal((1723104195026UL) << 18, HybridTimestamp.AfterPhysical(1723104195025).Value);
    }

    [Fact]
    public void Orders_by_raw_value()
    {
        var earlier = HybridTimestamp.FromParts(1000, 262143);
        var later = HybridTimestamp.FromParts(1001, 0);

        Assert.True(earlier < later);
        Assert.True(later >= earlier);
        Assert.Equal(-1, earlier.CompareTo(later));
    }

    [Theory]
    [InlineData(-1L, 0)]
    [InlineData(0L, 262144)]
    [InlineData(0L, -1)]
    public void Rejects_parts_that_do_not_fit(long physical, int logical)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => HybridTimestamp.FromParts(physical, logical));
    }

    [Fact]
    public void From_time_uses_unix_milliseconds()
    {
        var time = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123);

        Assert.Equal(time, HybridTimestamp.FromTime(time, 7).PhysicalTime);
        Assert.Equal(7, HybridTimestamp.FromTime(time, 7).Logical);
    }
}
