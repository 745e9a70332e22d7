using Cdc.Domain.Changes;
using Cdc.Testing;
using Cdc.Testing.SourceSimulator;

namespace Cdc.Testing.Tests.SourceSimulator;

public sealed class SimulatedTsoTests
{
    [Fact]
    public void Timestamps_follow_the_clock_and_count_logically_within_a_millisecond()
    {
        var time = new ManualTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(1_723_104_195_025));
        var tso = new SimulatedTso(time);

        var first = tso.Next();
        var second = tso.Next();
        time.Advance(TimeSpan.FromMilliseconds(3));
        var third = tso.Next();

        Assert.Equal(HybridTimestamp.FromParts(1_723_104_195_025, 0), first);
        Assert.Equal(HybridTimestamp.FromParts(1_723_104_195_025, 1), second);
        Assert.Equal(HybridTimestamp.FromParts(1_723_104_195_028, 0), third);
    }

    [Fact]
    public void Logical_overflow_moves_to_the_next_millisecond()
    {
        var tso = new SimulatedTso(new ManualTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(1000)));

        HybridTimestamp last = default;
        for (var i = 0; i <= (int)HybridTimestamp.LogicalMask + 1; i++)
        {
            var next = tso.Next();
            Assert.True(next > last);
            last = next;
        }

        Assert.Equal(HybridTimestamp.FromParts(1001, 0), last);
    }

    [Fact]
    public void Channel_names_parse_like_Milvus()
    {
        Assert.Equal("by-dev-rootcoord-dml_3", SourceStreamSimulator.PhysicalChannelOf("by-dev-rootcoord-dml_3_445993766148522019v0"));
        Assert.Throws<ArgumentException>(() => SourceStreamSimulator.PhysicalChannelOf("by-dev-rootcoord-dml_3"));
    }
}
