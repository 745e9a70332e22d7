using Cdc.Application.EventStore;
using Cdc.Domain.Events;
using Cdc.Domain.Tasks;
using Cdc.Testing;

namespace Cdc.Infrastructure.Tests.EventStore;

/// <summary>
/// Pause, resume, delete and a run's checks load a task's state from its projection rather than replaying its stream:
/// they must decide exactly as a replay would, and their appends must be checked against the stream.
/// </summary>
public sealed class TaskStreamsTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;
    private EventStoreHarness _h = null!;

    public async Task InitializeAsync() => _h = await EventStoreHarness.StartAsync();
    public async Task DisposeAsync() => await _h.DisposeAsync();

    private async Task<(bool, TaskState, string?, long)> ReplayedAsync(string id)
    {
        var t = await _h.Streams.LoadAsync(id, default);
        return (t.Exists, t.State, t.Reason, t.Version);
    }

    private async Task<(bool, TaskState, string?, long)> FromProjectionAsync(string id)
    {
        var t = await _h.Streams.LoadStateAsync(id, default);
        Assert.Null(t.Definition);
        return (t.Exists, t.State, t.Reason, t.Version);
    }

    [Fact]
    public async Task The_state_from_the_projection_is_the_replayed_state_after_each_command()
    {
        await _h.Store.AppendAsync(new StreamAppend("t1", StreamTypes.Task, 0, [TestTasks.Created("t1")]), default);
        Assert.Equal((true, TaskState.Running, (string?)null, 1L), await FromProjectionAsync("t1"));

        // A history of some length: the version keeps counting every event of the stream.
        for (var i = 0; i < 5; i++)
        {
            var task = await _h.Streams.LoadExistingAsync("t1", default);
            await _h.Streams.AppendAsync(task, task.Pause($"reason {i}", Now), default);
            Assert.Equal(await ReplayedAsync("t1"), await FromProjectionAsync("t1"));
            task = await _h.Streams.LoadExistingAsync("t1", default);
            await _h.Streams.AppendAsync(task, task.Resume(Now), default);
            Assert.Equal(await ReplayedAsync("t1"), await FromProjectionAsync("t1"));
        }

        var paused = await _h.Streams.LoadExistingAsync("t1", default);
        await _h.Streams.AppendAsync(paused, paused.Pause("last", Now), default);
        Assert.Equal((true, TaskState.Paused, "last", 12L), await FromProjectionAsync("t1"));
        var reloaded = await _h.Streams.LoadExistingAsync("t1", default);
        Assert.Equal(TaskRule.AlreadyPaused, Assert.Throws<TaskRuleViolation>(() => reloaded.Pause("again", Now)).Rule);

        var deleting = await _h.Streams.LoadStateAsync("t1", default);
        await _h.Streams.AppendAsync(deleting, deleting.Delete(Now), default);
        Assert.False((await _h.Streams.LoadStateAsync("t1", default)).Exists);
        Assert.False((await _h.Streams.LoadStateAsync("never", default)).Exists);
        Assert.Equal(TaskRule.NotFound, (await Assert.ThrowsAsync<TaskRuleViolation>(() => _h.Streams.LoadExistingAsync("t1", default))).Rule);
    }

    [Fact]
    public async Task A_decision_on_a_state_that_changed_since_it_was_read_is_a_conflict_and_writes_nothing()
    {
        await _h.Store.AppendAsync(new StreamAppend("t1", StreamTypes.Task, 0, [TestTasks.Created("t1")]), default);
        var first = await _h.Streams.LoadExistingAsync("t1", default);
        var second = await _h.Streams.LoadExistingAsync("t1", default);
        await _h.Streams.AppendAsync(first, first.Pause("first", Now), default);

        await Assert.ThrowsAsync<ConcurrencyConflict>(() => _h.Streams.AppendAsync(second, second.Pause("second", Now), default));
        Assert.Equal((true, TaskState.Paused, "first", 2L), await FromProjectionAsync("t1"));
        Assert.Equal(2, (await _h.Store.FetchStreamAsync("t1", default)).Version);
    }
}
