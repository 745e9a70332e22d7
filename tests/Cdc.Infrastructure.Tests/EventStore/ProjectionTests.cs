using Cdc.Application.EventStore;
using Cdc.Domain.Events;
using Cdc.Domain.Tasks;
using Cdc.Testing;
using Npgsql;

namespace Cdc.Infrastructure.Tests.EventStore;

public sealed class ProjectionTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);
    private EventStoreHarness _h = null!;

    public async Task InitializeAsync() => _h = await EventStoreHarness.StartAsync();
    public async Task DisposeAsync() => await _h.DisposeAsync();

    [Fact]
    public async Task Views_follow_the_streams_and_positions_follow_checkpoints()
    {
        await _h.Store.AppendAsync(new StreamAppend("t1", StreamTypes.Task, 0, [EventStoreTests.Created("t1")]), default);
        await _h.Store.AppendAsync(new StreamAppend("t1", StreamTypes.Task, 1, [new TaskPaused("t1", "target down", Now)]), default);
        await Checkpoint("t1", "by-dev-rootcoord-dml_0", 0, "AQAAAAAAAAA=", 100UL << 18);
        await Checkpoint("t1", "by-dev-rootcoord-dml_0", 1, "AgAAAAAAAAA=", 200UL << 18);

        var view = (await _h.Views.GetAsync("t1", default))!;
        Assert.Equal((TaskState.Paused, "target down", 2L), (view.State, view.Reason, view.Version));
        Assert.Null(view.Target.Token); // credentials never reach the read model
        var position = Assert.Single(view.Positions);
        Assert.Equal(("by-dev-rootcoord-dml_0", "AgAAAAAAAAA=", 200UL << 18), (position.Channel, position.Position, position.Timestamp));
    }

    [Fact]
    public async Task A_rebuild_from_zero_gives_the_same_rows()
    {
        for (var i = 0; i < 6; i++)
            await _h.Store.AppendAsync(new StreamAppend($"t{i}", StreamTypes.Task, 0, [EventStoreTests.Created($"t{i}")]), default);
        await _h.Store.AppendAsync(new StreamAppend("t1", StreamTypes.Task, 1, [new TaskPaused("t1", "manual", Now), new TaskResumed("t1", Now), new TaskPaused("t1", "again", Now)]), default);
        await _h.Store.AppendAsync(new StreamAppend("t2", StreamTypes.Task, 1, [new TaskDeleted("t2", Now)]) { ArchiveStream = true }, default);
        await Checkpoint("t3", "ch_0", 0, "p1", 1);
        await Checkpoint("t3", "ch_1", 0, "p2", 2);
        await Checkpoint("t3", "ch_0", 1, "p3", 3);
        var before = await SnapshotAsync();
        Assert.Contains("again", before);

        // damage the read model, then rebuild it from the events alone
        await ExecuteAsync("delete from cdc.task_views; delete from cdc.channel_positions; update cdc.projection_progress set last_seq = 0");
        Assert.Empty(await _h.Views.ListAsync(default));
        var applied = await _h.Rebuilder.RebuildAsync(default, batchSize: 4);

        Assert.Equal(13, applied); // 6 creates, 3 on t1, 1 delete, 3 checkpoints
        Assert.Equal(before, await SnapshotAsync());
        Assert.Equal(5, (await _h.Views.ListAsync(default)).Count);
    }

    [Fact]
    public async Task Applying_is_idempotent_per_projection_progress()
    {
        await _h.Store.AppendAsync(new StreamAppend("t1", StreamTypes.Task, 0, [EventStoreTests.Created("t1")]), default);
        await _h.Store.AppendAsync(new StreamAppend("t1", StreamTypes.Task, 1, [new TaskPaused("t1", "x", Now)]), default);
        var before = await SnapshotAsync();
        // hand the already-applied events to the projections again: nothing changes
        await using var conn = await _h.DataSource.OpenConnectionAsync();
        await _h.Projections.ApplyAsync(conn, await _h.Feed.ReadAsync(0, 10, default), default);
        Assert.Equal(before, await SnapshotAsync());
    }

    [Fact]
    public async Task An_old_event_version_is_upcast_on_read()
    {
        await _h.Store.AppendAsync(new StreamAppend("t1", StreamTypes.Task, 0, [EventStoreTests.Created("t1")]), default);
        // a task_paused as version 1 stored it: no reason field
        await ExecuteAsync("""
            update cdc.mt_streams set version = 2 where id = 't1';
            insert into cdc.mt_events (seq_id, id, tenant_id, stream_id, version, type, type_version, data, "timestamp")
            values (nextval('cdc.mt_events_sequence'), gen_random_uuid(), 'cdc', 't1', 2, 'task_paused', 1,
                    '{"task_id":"t1","paused_at":"2024-01-01T00:00:00+00:00"}', now());
            """);
        var stream = await _h.Store.FetchStreamAsync("t1", default);
        var paused = Assert.IsType<TaskPaused>(stream.Events[1].Data);
        Assert.Equal(TaskPaused.ManualReason, paused.Reason);
        Assert.Equal(new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero), paused.PausedAt);
    }

    private async Task Checkpoint(string task, string channel, long expected, string position, ulong ts) =>
        await _h.Store.AppendAsync(new StreamAppend(StreamTypes.ChannelCheckpointStream(task, channel), StreamTypes.ChannelCheckpoint, expected,
            [new ChannelCheckpointed(task, channel, position, ts, Now)]), default);

    private async Task<string> SnapshotAsync()
    {
        await using var conn = await _h.DataSource.OpenConnectionAsync();
        await using var cmd = new NpgsqlCommand("""
            select coalesce((select string_agg(task_id || '=' || view::text, E'\n' order by task_id) from cdc.task_views), '') || E'\n--\n' ||
                   coalesce((select string_agg(task_id || '/' || channel || '=' || position || '@' || ts, E'\n' order by task_id, channel) from cdc.channel_positions), '')
            """, conn);
        return (string)(await cmd.ExecuteScalarAsync())!;
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var conn = await _h.DataSource.OpenConnectionAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }
}
