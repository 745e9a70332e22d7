using Cdc.Application.Replication.Routing;


namespace Cdc.Application.Tests.Routing;

public sealed class ChannelMappingTests
{
    [Fact]
    public void Sorted_source_and_target_shards_are_paired_by_index_with_their_physical_channels()
    {
        var mapping = ChannelMapping.Pair(
            ["by-dev-rootcoord-dml_7_445993766148522019v1", "by-dev-rootcoord-dml_3_445993766148522019v0"],
            ["target-rootcoord-dml_12_9001v1", "target-rootcoord-dml_0_9001v0"]);

        Assert.Equal("target-rootcoord-dml_0_9001v0", mapping.TargetOf("by-dev-rootcoord-dml_3_445993766148522019v0"));
        Assert.Equal("target-rootcoord-dml_12_9001v1", mapping.TargetOf("by-dev-rootcoord-dml_7_445993766148522019v1"));
        Assert.Equal("target-rootcoord-dml_12", mapping.TargetPhysicalOf("by-dev-rootcoord-dml_7_445993766148522019v1"));
        Assert.Throws<KeyNotFoundException>(() => mapping.TargetOf("by-dev-rootcoord-dml_1_5v0"));
    }

    [Fact]
    public void Different_shard_counts_are_refused_with_the_reference_text()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => ChannelMapping.Pair(["a_1v0", "b_1v1"], ["t_2v0"]));
        Assert.StartsWith("the lengths of source and target channels are not equal", ex.Message);
    }

    [Theory]
    [InlineData("by-dev-rootcoord-dml_3_445993766148522019v0", true, "by-dev-rootcoord-dml_3")]
    [InlineData("by-dev-replicate-msg_6623ae52d35842a5a2c9d89b16ed7aa1v0", false, null)]
    [InlineData("by-dev-rootcoord-dml_3", false, null)]
    public void Virtual_channel_names_are_recognised_and_reduced_to_their_physical_channel(string name, bool isVirtual, string? physical)
    {
        Assert.Equal(isVirtual, ChannelMapping.IsVirtual(name));
        if (physical is not null) Assert.Equal(physical, ChannelMapping.ToPhysical(name));
        else Assert.Throws<ArgumentException>(() => ChannelMapping.ToPhysical(name));
    }
}
