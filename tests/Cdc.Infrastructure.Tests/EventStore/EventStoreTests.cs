using Cdc.Application.EventStore;
using Cdc.Domain.Events;
using Cdc.Domain.Tasks;
using Cdc.Testing;

namespace Cdc.Infrastructure.Tests.EventStore;

public sealed class EventStoreTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;
    private EventStoreHarness _h = null!;

    public async Task InitializeAsync() => _h = await EventStoreHarness.StartAsync();
    public async Task DisposeAsync() => await _h.DisposeAsync();

    private static TaskCreated Created(string id) => TestTasks.Created(id);

    [Fact]
    public async Task Appended_events_come_back_in_order_with_versions_and_types()
    {
        Assert.Equal(1, await _h.Store.AppendAsync(new StreamAppend("t1", StreamTypes.Task, 0, [Created("t1")]), default));
        Assert.Equal(3, await _h.Store.AppendAsync(new StreamAppend("t1", StreamTypes.Task, 1,
            [new TaskPaused("t1", "why", Now), new TaskResumed("t1", Now)]), default));

        var stream = await _h.Store.FetchStreamAsync("t1", default);
        Assert.Equal(3, stream.Version);
        Assert.Equal(["task_created", "task_paused", "task_resumed"], stream.Events.Select(e => e.Type));
        Assert.Equal([1L, 2, 3], stream.Events.Select(e => e.Version));
        var created = Assert.IsType<TaskCreated>(stream.Events[0].Data);
        Assert.Equal(("http://localhost:19530", 10, "v1:x"), (created.Definition.Target.Uri, created.Definition.Target.ConnectTimeoutSeconds, created.Definition.Target.Token!.Ciphertext));
        Assert.Equal("*", created.Definition.Selection.CollectionInfos!.Single().Name);
        Assert.Equal("why", ((TaskPaused)stream.Events[1].Data).Reason);
        Assert.False((await _h.Store.FetchStreamAsync("missing", default)).Exists);
    }

    [Fact]
    public async Task A_stale_expected_version_is_a_concurrency_conflict_and_writes_nothing()
    {
        await _h.Store.AppendAsync(new StreamAppend("t1", StreamTypes.Task, 0, [Created("t1")]), default);
        await _h.Store.AppendAsync(new StreamAppend("t1", StreamTypes.Task, 1, [new TaskPaused("t1", "a", Now)]), default);

        var conflict = await Assert.ThrowsAsync<ConcurrencyConflict>(() =>
            _h.Store.AppendAsync(new StreamAppend("t1", StreamTypes.Task, 1, [new TaskPaused("t1", "b", Now)]), default));
        Assert.Equal((1L, 2L), (conflict.Expected, conflict.Actual));
        await Assert.ThrowsAsync<ConcurrencyConflict>(() =>
            _h.Store.AppendAsync(new StreamAppend("t1", StreamTypes.Task, 0, [Created("t1")]), default));

        var stream = await _h.Store.FetchStreamAsync("t1", default);
        Assert.Equal(2, stream.Version);
        Assert.Equal("a", ((TaskPaused)stream.Events[1].Data).Reason);
        Assert.Equal(["task_created", "task_paused"], (await _h.Feed.ReadAsync(0, 10, default)).Select(e => e.Type));
    }

    [Fact]
    public async Task Of_many_concurrent_appends_at_one_version_exactly_one_wins()
    {
        await _h.Store.AppendAsync(new StreamAppend("t1", StreamTypes.Task, 0, [Created("t1")]), default);
        var attempts = Enumerable.Range(0, 20).Select(async i =>
        {
            try
            {
                await _h.Store.AppendAsync(new StreamAppend("t1", StreamTypes.Task, 1, [new TaskPaused("t1", $"r{i}", Now)]), default);
                return true;
            }
            catch (ConcurrencyConflict) { return false; }
        });
        Assert.Single(await Task.WhenAll(attempts), won => won);
        Assert.Equal(2, (await _h.Store.FetchStreamAsync("t1", default)).Version);
    }

    [Fact]
    public async Task Of_concurrent_creates_of_one_stream_exactly_one_wins()
    {
        var attempts = Enumerable.Range(0, 10).Select(async _ =>
        {
            try
            {
                await _h.Store.AppendAsync(new StreamAppend("t1", StreamTypes.Task, 0, [Created("t1")]) { LiveStreamLimit = 100 }, default);
                return true;
            }
            catch (ConcurrencyConflict) { return false; }
        });
        Assert.Single(await Task.WhenAll(attempts), won => won);
        Assert.Single((await _h.Store.FetchStreamAsync("t1", default)).Events);
    }

    [Fact]
    public async Task The_live_task_limit_holds_under_concurrency_and_a_deleted_task_frees_a_slot()
    {
        var attempts = Enumerable.Range(0, 30).Select(async i =>
        {
            try
            {
                await _h.Store.AppendAsync(new StreamAppend($"t{i}", StreamTypes.Task, 0, [Created($"t{i}")]) { LiveStreamLimit = 5 }, default);
                return $"t{i}";
            }
            catch (LiveStreamLimitReached) { return null; }
        });
        var winners = (await Task.WhenAll(attempts)).OfType<string>().ToList();
        Assert.Equal(5, winners.Count);
        Assert.Equal(5, (await _h.Views.ListAsync(default)).Count);

        await _h.Store.AppendAsync(new StreamAppend(winners[0], StreamTypes.Task, 1, [new TaskDeleted(winners[0], Now)]), default);
        await _h.Store.AppendAsync(new StreamAppend("again", StreamTypes.Task, 0, [Created("again")]) { LiveStreamLimit = 5 }, default);
        await Assert.ThrowsAsync<LiveStreamLimitReached>(() =>
            _h.Store.AppendAsync(new StreamAppend("over", StreamTypes.Task, 0, [Created("over")]) { LiveStreamLimit = 5 }, default));
    }

    [Fact]
    public async Task A_failure_inside_the_append_leaves_no_event_no_stream_and_no_view()
    {
        _h.Store.BeforeCommit = _ => throw new InvalidOperationException("crash before commit");
        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            _h.Store.AppendAsync(new StreamAppend("t1", StreamTypes.Task, 0, [Created("t1")]), default));
        _h.Store.BeforeCommit = null;

        Assert.False((await _h.Store.FetchStreamAsync("t1", default)).Exists);
        Assert.Null(await _h.Views.GetAsync("t1", default));
        Assert.Empty(await _h.Feed.ReadAsync(0, 10, default));
        // and the stream can still be created afterwards
        Assert.Equal(1, await _h.Store.AppendAsync(new StreamAppend("t1", StreamTypes.Task, 0, [Created("t1")]), default));
    }

    [Fact]
    public async Task Appends_to_different_tasks_do_not_wait_for_each_other()
    {
        await _h.Store.AppendAsync(new StreamAppend("a", StreamTypes.Task, 0, [Created("a")]), default);
        await _h.Store.AppendAsync(new StreamAppend("b", StreamTypes.Task, 0, [Created("b")]), default);

        // The append to "a" stalls inside its transaction, holding whatever it locked until it commits.
        var inside = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        _h.Store.BeforeCommit = async _ => { inside.TrySetResult(); await release.Task; };
        var stalled = _h.Store.AppendAsync(new StreamAppend("a", StreamTypes.Task, 1, [new TaskPaused("a", "slow", Now)]), default);
        await inside.Task;
        _h.Store.BeforeCommit = null;

        // Another writer appends to "b" meanwhile: it commits at once (there is no global append lock) ...
        var other = new Infrastructure.EventStore.MartenEventStore(_h.Documents, _h.Options);
        await other.AppendAsync(new StreamAppend("b", StreamTypes.Task, 1, [new TaskPaused("b", "fast", Now)]), default)
            .WaitAsync(TimeSpan.FromSeconds(20));
        Assert.False(stalled.IsCompleted);
        Assert.Equal(Domain.Tasks.TaskState.Paused, (await _h.Views.GetAsync("b", default))!.State);

        release.SetResult();
        await stalled;
        Assert.Equal("slow", (await _h.Views.GetAsync("a", default))!.Reason);
    }

    [Fact]
    public async Task Tenants_of_one_database_do_not_see_each_other()
    {
        await _h.Store.AppendAsync(new StreamAppend("t1", StreamTypes.Task, 0, [Created("t1")]), default);
        var other = _h.ForTenant("other");
        Assert.False((await other.Store.FetchStreamAsync("t1", default)).Exists);
        Assert.Empty(await other.Views.ListAsync(default));
        Assert.Equal(1, await other.Store.AppendAsync(new StreamAppend("t1", StreamTypes.Task, 0, [Created("t1")]), default));
        Assert.Single(await other.Views.ListAsync(default));
        Assert.Single(await _h.Views.ListAsync(default));
        Assert.Empty(await _h.ForTenant("third").Feed.ReadAsync(0, 10, default));
        Assert.Single(await other.Feed.ReadAsync(0, 10, default));
    }

    [Fact]
    public async Task A_trimmed_checkpoint_stream_stays_short_and_keeps_its_latest_position()
    {
        await _h.Store.AppendAsync(new StreamAppend("t1", StreamTypes.Task, 0, [Created("t1")]), default);
        var streamId = StreamTypes.ChannelCheckpointStream("t1", "ch_0");
        for (var version = 0L; version < 60; version++)
        {
            await _h.Store.AppendAsync(new StreamAppend(streamId, StreamTypes.ChannelCheckpoint, version,
                [new ChannelCheckpointed("t1", "ch_0", $"p{version + 1}", (ulong)version + 1, Now)]), default);
        }

        await _h.Store.TrimStreamAsync(streamId, StreamTypes.ChannelCheckpoint, 10, default);

        var stream = await _h.Store.FetchStreamAsync(streamId, default);
        Assert.Equal(60, stream.Version);
        Assert.True(stream.Events.Count <= 11, $"{stream.Events.Count} events kept");
        Assert.Equal("p60", stream.Events.Select(e => e.Data).OfType<ChannelCheckpointed>().Last().Position);
        Assert.Equal("p60", Assert.Single((await _h.Views.GetAsync("t1", default))!.Positions).Position);
        // optimistic concurrency is unaffected
        await Assert.ThrowsAsync<ConcurrencyConflict>(() => _h.Store.AppendAsync(new StreamAppend(streamId, StreamTypes.ChannelCheckpoint, 59,
            [new ChannelCheckpointed("t1", "ch_0", "late", 61, Now)]), default));
    }
}
