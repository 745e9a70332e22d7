using Cdc.Application.EventStore;
using Cdc.Domain.Events;
using Cdc.Domain.Tasks;
using Cdc.Testing;
using Npgsql;

namespace Cdc.Infrastructure.Tests.EventStore;

public sealed class EventStoreTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;
    private EventStoreHarness _h = null!;

    public async Task InitializeAsync() => _h = await EventStoreHarness.StartAsync();
    public async Task DisposeAsync() => await _h.DisposeAsync();

    internal static TaskCreated Created(string id) => new(id, new TaskDefinition(
        new MilvusTarget("http://localhost:19530", 10, Token: new ProtectedSecret("v1:x")),
        new CollectionSelection([new CollectionInfo("*")], null)), Now);

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
        Assert.Equal(2, await _h.Feed.HighWaterMarkAsync(default));
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
    public async Task The_unique_stream_version_constraint_backs_up_the_version_check()
    {
        // A writer that bypasses the append lock still cannot put a second event at a taken version.
        await _h.Store.AppendAsync(new StreamAppend("t1", StreamTypes.Task, 0, [Created("t1")]), default);
        await using var conn = await _h.DataSource.OpenConnectionAsync();
        await using var cmd = new NpgsqlCommand("""
            insert into cdc.mt_events (seq_id, id, tenant_id, stream_id, version, type, type_version, data, "timestamp")
            values (nextval('cdc.mt_events_sequence'), gen_random_uuid(), 'cdc', 't1', 1, 'task_paused', 2, '{}', now())
            """, conn);
        var ex = await Assert.ThrowsAsync<PostgresException>(() => cmd.ExecuteNonQueryAsync());
        Assert.Equal(PostgresErrorCodes.UniqueViolation, ex.SqlState);
    }

    [Fact]
    public async Task The_live_stream_limit_holds_under_concurrency_and_archived_streams_free_a_slot()
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

        await _h.Store.AppendAsync(new StreamAppend(winners[0], StreamTypes.Task, 1, [new TaskDeleted(winners[0], Now)]) { ArchiveStream = true }, default);
        await Assert.ThrowsAsync<StreamArchived>(() =>
            _h.Store.AppendAsync(new StreamAppend(winners[0], StreamTypes.Task, 2, [new TaskResumed(winners[0], Now)]), default));
        await _h.Store.AppendAsync(new StreamAppend("again", StreamTypes.Task, 0, [Created("again")]) { LiveStreamLimit = 5 }, default);
        await Assert.ThrowsAsync<LiveStreamLimitReached>(() =>
            _h.Store.AppendAsync(new StreamAppend("over", StreamTypes.Task, 0, [Created("over")]) { LiveStreamLimit = 5 }, default));
    }

    [Fact]
    public async Task A_failure_inside_the_append_leaves_no_event_no_stream_and_no_projection_row()
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
    public async Task Tenants_of_one_database_do_not_see_each_other()
    {
        await _h.Store.AppendAsync(new StreamAppend("t1", StreamTypes.Task, 0, [Created("t1")]), default);
        var otherOptions = _h.Options with { Tenant = "other" };
        var other = new Infrastructure.EventStore.PostgresEventStore(_h.DataSource, otherOptions, _h.Types,
            new Infrastructure.EventStore.Projections.ProjectionRunner([new Infrastructure.EventStore.Projections.TaskViewProjection(otherOptions)], otherOptions), TimeProvider.System);
        Assert.False((await other.FetchStreamAsync("t1", default)).Exists);
        Assert.Equal(1, await other.AppendAsync(new StreamAppend("t1", StreamTypes.Task, 0, [Created("t1")]), default));
        Assert.Empty(await new Infrastructure.EventStore.PostgresEventFeed(_h.DataSource, otherOptions with { Tenant = "third" }, _h.Types).ReadAsync(0, 10, default));
    }
}
