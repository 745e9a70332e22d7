using Cdc.Application.Replication.Target;


namespace Cdc.Application.Tests.Target;

public sealed class ShardBarrierTests
{
    [Fact]
    public void Only_the_last_shard_to_see_the_drop_releases_it_and_only_once()
    {
        var barrier = new ShardBarrier<long>();
        barrier.Expect(42, ["dml_0_42v0", "dml_1_42v1", "dml_2_42v2"]);
        Assert.False(barrier.Arrive(42, "dml_1_42v1"));
        Assert.False(barrier.Arrive(42, "dml_1_42v1")); // the same shard twice (a replay) does not count twice
        Assert.Equal(["dml_0_42v0", "dml_2_42v2"], barrier.Remaining(42).Order());
        Assert.False(barrier.Arrive(42, "dml_0_42v0"));
        Assert.True(barrier.Arrive(42, "dml_2_42v2"));
        Assert.Empty(barrier.Remaining(42));
        Assert.Throws<InvalidOperationException>(() => barrier.Arrive(42, "dml_2_42v2"));
    }

    [Fact]
    public void Keys_are_independent_and_expecting_twice_keeps_the_first_set()
    {
        var barrier = new ShardBarrier<(long Collection, long Partition)>();
        barrier.Expect((1, 10), ["a_1v0"]);
        barrier.Expect((1, 11), ["a_1v0", "b_1v1"]);
        barrier.Expect((1, 10), ["x_1v0", "y_1v1"]);
        Assert.True(barrier.Arrive((1, 10), "a_1v0"));
        Assert.False(barrier.Arrive((1, 11), "a_1v0"));
        Assert.True(barrier.Arrive((1, 11), "b_1v1"));
    }
}
