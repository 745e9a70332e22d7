using Cdc.Application.EventStore;
using Cdc.Application.Tasks;
using Cdc.Domain.Events;
using Cdc.Domain.Tasks;
using Cdc.Infrastructure.EventStore;
using Cdc.Testing;
using Marten;

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
        await _h.Store.AppendAsync(new StreamAppend("t1", StreamTypes.Task, 0, [TestTasks.Created("t1")]), default);
        await _h.Store.AppendAsync(new StreamAppend("t1", StreamTypes.Task, 1, [new TaskPaused("t1", "target down", Now)]), default);
        await Checkpoint("t1", "by-dev-rootcoord-dml_0", 0, "AQAAAAAAAAA=", 100UL << 18);
        await Checkpoint("t1", "by-dev-rootcoord-dml_0", 1, "AgAAAAAAAAA=", 200UL << 18);
        await _h.Store.AppendAsync(new StreamAppend(StreamTypes.TargetTimeStream("t1", "target-dml_0"), StreamTypes.TargetTime, 0,
            [new TargetTimeReserved("t1", "target-dml_0", 300UL << 18, 100UL << 18, Now)]), default);
        await using (var reading = _h.Documents.QuerySession(_h.Options.Tenant))
            Assert.Equal(300UL << 18, Assert.Single(await reading.Query<TargetTimeDocument>().ToListAsync()).Timestamp);

        var view = (await _h.Views.GetAsync("t1", default))!;
        Assert.Equal((TaskState.Paused, "target down", 2L), (view.State, view.Reason, view.Version));
        Assert.Null(view.Target.Token); // credentials never reach the read model
        var position = Assert.Single(view.Positions);
        Assert.Equal(("by-dev-rootcoord-dml_0", "AgAAAAAAAAA=", 200UL << 18), (position.Channel, position.Position, position.Timestamp));

        await _h.Reports.ReportAsync("t1", new TaskRuntimeReport("server-a", "boom", Now, null, Now), default);
        Assert.Equal("boom", (await _h.Views.GetAsync("t1", default))!.Runtime!.LastError);
        await _h.Store.AppendAsync(new StreamAppend("t1", StreamTypes.Task, 2, [new TaskDeleted("t1", Now)]), default);
        Assert.Null(await _h.Views.GetAsync("t1", default));
        await using var session = _h.Documents.QuerySession(_h.Options.Tenant);
        Assert.Empty(await session.Query<ChannelPositionDocument>().ToListAsync()); // positions go with the task
        Assert.Empty(await session.Query<TargetTimeDocument>().ToListAsync()); // and the reserved target time
        Assert.Null(await session.LoadAsync<TaskRuntimeDocument>("t1"));
    }

    [Fact]
    public async Task A_rebuild_from_the_events_gives_the_same_views()
    {
        for (var i = 0; i < 6; i++)
            await _h.Store.AppendAsync(new StreamAppend($"t{i}", StreamTypes.Task, 0, [TestTasks.Created($"t{i}")]), default);
        await _h.Store.AppendAsync(new StreamAppend("t1", StreamTypes.Task, 1, [new TaskPaused("t1", "manual", Now), new TaskResumed("t1", Now), new TaskPaused("t1", "again", Now)]), default);
        await _h.Store.AppendAsync(new StreamAppend("t2", StreamTypes.Task, 1, [new TaskDeleted("t2", Now)]), default);
        await Checkpoint("t3", "ch_0", 0, "p1", 1);
        await Checkpoint("t3", "ch_1", 0, "p2", 2);
        await Checkpoint("t3", "ch_0", 1, "p3", 3);
        var before = Snapshot(await _h.Views.ListAsync(default));
        Assert.Contains("again", before);

        // damage the read model, then rebuild it from the events alone
        await using (var session = _h.Documents.LightweightSession(_h.Options.Tenant))
        {
            session.DeleteWhere<TaskView>(_ => true);
            session.DeleteWhere<ChannelPositionDocument>(_ => true);
            await session.SaveChangesAsync();
        }
        Assert.Empty(await _h.Views.ListAsync(default));
        using var daemon = await _h.Documents.BuildProjectionDaemonAsync();
        await daemon.RebuildProjectionAsync<TaskViewProjection>(CancellationToken.None);
        await daemon.RebuildProjectionAsync<ChannelPositionProjection>(CancellationToken.None);

        Assert.Equal(before, Snapshot(await _h.Views.ListAsync(default)));
        Assert.Equal(5, (await _h.Views.ListAsync(default)).Count);
    }

    private async Task Checkpoint(string task, string channel, long expected, string position, ulong ts) =>
        await _h.Store.AppendAsync(new StreamAppend(StreamTypes.ChannelCheckpointStream(task, channel), StreamTypes.ChannelCheckpoint, expected,
            [new ChannelCheckpointed(task, channel, position, ts, Now)]), default);

    private static string Snapshot(IEnumerable<TaskView> views) => string.Join("\n", views.Select(v =>
        $"{v.TaskId} {v.State} {v.Reason} {v.Version} {v.Target.Uri} " + string.Join(",", v.Positions.Select(p => $"{p.Channel}={p.Position}@{p.Timestamp}"))));
}
