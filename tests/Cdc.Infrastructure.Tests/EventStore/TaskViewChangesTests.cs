using Cdc.Infrastructure.EventStore;

namespace Cdc.Infrastructure.Tests.EventStore;

public sealed class TaskViewChangesTests
{
    [Fact]
    public void Counters_of_at_most_the_bound_of_tasks_are_kept_and_dropping_them_invalidates_every_cached_view()
    {
        var changes = new TaskViewChanges(new EventStoreOptions("cdc", "cdc"));
        changes.Changed("t0", taskStream: true);
        var epoch = changes.Epoch;
        for (var i = 1; i < TaskViewChanges.MaxTrackedTasks; i++) changes.Changed($"t{i}", taskStream: false);
        Assert.Equal((1L, epoch), (changes.StampOf("t0"), changes.Epoch));

        changes.Changed("one more", taskStream: false);
        Assert.Equal(0L, changes.StampOf("t0"));
        Assert.Equal(1L, changes.StampOf("one more"));
        Assert.True(changes.Epoch > epoch);
    }

    [Fact]
    public void A_notice_counts_only_for_its_own_schema_and_tenant()
    {
        var changes = new TaskViewChanges(new EventStoreOptions("cdc", "by-dev"));
        changes.Received(TaskViewChanges.Notice("cdc", "other-root", "t1", taskStream: true));
        changes.Received(TaskViewChanges.Notice("other_schema", "by-dev", "t1", taskStream: true));
        changes.Received("not json");
        Assert.Equal((0L, 0L), (changes.StampOf("t1"), changes.Membership));

        changes.Received(TaskViewChanges.Notice("cdc", "by-dev", "t1", taskStream: true));
        Assert.Equal((1L, 1L), (changes.StampOf("t1"), changes.Membership));
        changes.Received(TaskViewChanges.Notice("cdc", "by-dev", "t1", taskStream: false));
        Assert.Equal((2L, 1L), (changes.StampOf("t1"), changes.Membership));
    }
}
