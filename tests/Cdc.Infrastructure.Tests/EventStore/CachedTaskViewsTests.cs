using Cdc.Application.EventStore;
using Cdc.Application.Tasks;
using Cdc.Domain.Events;
using Cdc.Domain.Tasks;
using Cdc.Infrastructure.EventStore;
using Cdc.Testing;
using Marten;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Cdc.Infrastructure.Tests.EventStore;

/// <summary>
/// get and list from memory on server B while the tasks change through server A (another process on the same
/// database, here another Marten store) and through B itself. B's clock never moves unless a test moves it, so a
/// cached answer can only be refreshed by a change notice, never by its age.
/// </summary>
public sealed class CachedTaskViewsTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 12, 5, 9, 0, 0, TimeSpan.Zero);
    private readonly ManualTimeProvider _clock = new(Now);
    private EventStoreHarness _a = null!;
    private DocumentStore _bDocuments = null!;
    private TaskViewChanges _bChanges = null!;
    private CachedTaskViews _b = null!;
    private MartenEventStore _bStore = null!;
    private TaskViewChangeListener? _bListener;

    public async Task InitializeAsync()
    {
        _a = await EventStoreHarness.StartAsync();
        _bChanges = new TaskViewChanges(_a.Options);
        _bDocuments = EventStoreHarness.OpenStore(_a.Database.ConnectionString, _a.Options, _bChanges);
        _bStore = new MartenEventStore(_bDocuments, _a.Options);
        _b = new CachedTaskViews(new MartenTaskViews(_bDocuments, _a.Options), _bChanges, _clock);
    }

    public async Task DisposeAsync()
    {
        if (_bListener is not null) await _bListener.StopAsync(default);
        _bDocuments.Dispose();
        await _a.DisposeAsync();
    }

    [Fact]
    public async Task Server_b_answers_its_own_changes_at_once_and_server_a_changes_once_their_notice_arrives()
    {
        await StartListeningAsync();
        await _a.Store.AppendAsync(new StreamAppend("t1", StreamTypes.Task, 0, [TestTasks.Created("t1")]), default);
        Assert.Equal(TaskState.Running, (await Eventually(() => _b.GetAsync("t1", default), v => v is not null))!.State);
        Assert.Equal(["t1"], (await _b.ListAsync(default)).Select(v => v.TaskId));

        // A pauses: B's cached view gives way when the notice arrives.
        await _a.Store.AppendAsync(new StreamAppend("t1", StreamTypes.Task, 1, [new TaskPaused("t1", "by a", Now)]), default);
        Assert.Equal("by a", (await Eventually(() => _b.GetAsync("t1", default), v => v?.State == TaskState.Paused))!.Reason);
        Assert.Equal(TaskState.Paused, Assert.Single(await _b.ListAsync(default)).State);

        // B resumes: B's next read shows it, without waiting for a notice.
        await _bStore.AppendAsync(new StreamAppend("t1", StreamTypes.Task, 2, [new TaskResumed("t1", Now)]), default);
        Assert.Equal(TaskState.Running, (await _b.GetAsync("t1", default))!.State);
        Assert.Equal(TaskState.Running, Assert.Single(await _b.ListAsync(default)).State);

        // A's task run checkpoints and reports: both reach B's get and list.
        await _a.Store.AppendAsync(new StreamAppend(StreamTypes.ChannelCheckpointStream("t1", "dml_0"), StreamTypes.ChannelCheckpoint, 0,
            [new ChannelCheckpointed("t1", "dml_0", "AQ==", 7, Now)]), default);
        Assert.Equal("AQ==", Assert.Single((await Eventually(() => _b.GetAsync("t1", default), v => v!.Positions.Count == 1))!.Positions).Position);
        await _a.Reports.ReportAsync("t1", new TaskRuntimeReport("server-a", "target down", Now, null, Now), default);
        await Eventually(() => _b.ListAsync(default), l => l.Single().Runtime?.LastError == "target down");
        Assert.Equal("AQ==", Assert.Single(Assert.Single(await _b.ListAsync(default)).Positions).Position);

        // A creates one and deletes the other: B's list follows.
        await _a.Store.AppendAsync(new StreamAppend("t2", StreamTypes.Task, 0, [TestTasks.Created("t2")]), default);
        await Eventually(() => _b.ListAsync(default), l => l.Count == 2);
        await _a.Store.AppendAsync(new StreamAppend("t1", StreamTypes.Task, 3, [new TaskDeleted("t1", Now)]), default);
        Assert.Equal(["t2"], (await Eventually(() => _b.ListAsync(default), l => l.Count == 1)).Select(v => v.TaskId));
        Assert.Null(await _b.GetAsync("t1", default));
    }

    [Fact]
    public async Task Without_a_listening_connection_every_read_goes_to_the_database()
    {
        await _a.Store.AppendAsync(new StreamAppend("t1", StreamTypes.Task, 0, [TestTasks.Created("t1")]), default);
        Assert.Equal(TaskState.Running, (await _b.GetAsync("t1", default))!.State);
        Assert.Single(await _b.ListAsync(default));

        await _a.Store.AppendAsync(new StreamAppend("t1", StreamTypes.Task, 1, [new TaskPaused("t1", "by a", Now)]), default);
        Assert.Equal(TaskState.Paused, (await _b.GetAsync("t1", default))!.State);
        Assert.Equal(TaskState.Paused, Assert.Single(await _b.ListAsync(default)).State);
    }

    [Fact]
    public async Task Changes_made_while_the_listening_connection_was_down_show_once_it_is_back()
    {
        await StartListeningAsync();
        await CreateOnAAndCacheOnBAsync("t1");

        await using (var admin = _a.DataSource.CreateCommand("select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1"))
        {
            admin.Parameters.Add(new NpgsqlParameter { Value = TaskViewChangeListener.ApplicationName });
            await admin.ExecuteNonQueryAsync();
        }

        await Eventually(() => Task.FromResult(_bChanges.Listening), listening => !listening);
        await _a.Store.AppendAsync(new StreamAppend("t1", StreamTypes.Task, 1, [new TaskPaused("t1", "while b was deaf", Now)]), default);
        await _a.Store.AppendAsync(new StreamAppend("t2", StreamTypes.Task, 0, [TestTasks.Created("t2")]), default);
        await Eventually(() => Task.FromResult(_bChanges.Listening), listening => listening);

        Assert.Equal(TaskState.Paused, (await _b.GetAsync("t1", default))!.State);
        Assert.Equal(["t1", "t2"], (await _b.ListAsync(default)).Select(v => v.TaskId));
    }

    [Fact]
    public async Task A_change_no_notice_announces_shows_once_the_cached_answer_is_too_old()
    {
        await StartListeningAsync();
        await CreateOnAAndCacheOnBAsync("t1");

        // Written behind Marten's back (as an operator's hand-made SQL would): no notice is sent.
        await using (var edit = _a.DataSource.CreateCommand("update cdc.mt_doc_taskview set data = jsonb_set(data, '{reason}', '\"edited\"') where id = 't1'"))
            Assert.Equal(1, await edit.ExecuteNonQueryAsync());
        Assert.Null((await _b.GetAsync("t1", default))!.Reason);
        Assert.Null(Assert.Single(await _b.ListAsync(default)).Reason);

        _clock.Advance(CachedTaskViews.MaxAge);
        Assert.Equal("edited", (await _b.GetAsync("t1", default))!.Reason);
        Assert.Equal("edited", Assert.Single(await _b.ListAsync(default)).Reason);
    }

    [Fact]
    public async Task An_append_that_loses_its_race_sends_no_notice()
    {
        await using var listening = _a.Database.CreateDataSource();
        await using var connection = await listening.OpenConnectionAsync();
        var notices = new List<string>();
        connection.Notification += (_, n) => { lock (notices) notices.Add(n.Payload); };
        await using (var listen = new NpgsqlCommand($"LISTEN {TaskViewChanges.Channel}", connection)) await listen.ExecuteNonQueryAsync();

        async Task WaitForNoticesAsync(int count)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            while (Count() < count) await connection.WaitAsync(timeout.Token);
        }

        int Count()
        {
            lock (notices) return notices.Count;
        }

        var expected = TaskViewChanges.Notice("cdc", "cdc", "t1", taskStream: true);
        await _a.Store.AppendAsync(new StreamAppend("t1", StreamTypes.Task, 0, [TestTasks.Created("t1")]), default);
        await WaitForNoticesAsync(1);

        await Assert.ThrowsAsync<ConcurrencyConflict>(() =>
            _a.Store.AppendAsync(new StreamAppend("t1", StreamTypes.Task, 0, [TestTasks.Created("t1")]), default));
        await connection.WaitAsync(TimeSpan.FromMilliseconds(500));
        Assert.Equal([expected], notices);

        await _a.Store.AppendAsync(new StreamAppend("t1", StreamTypes.Task, 1, [new TaskPaused("t1", "x", Now)]), default);
        await WaitForNoticesAsync(2);
        Assert.Equal([expected, expected], notices);
    }

    /// <summary>Creates the task through A and waits until B's get finds it; B's get and list then hold it in memory.</summary>
    private async Task CreateOnAAndCacheOnBAsync(string taskId)
    {
        await _a.Store.AppendAsync(new StreamAppend(taskId, StreamTypes.Task, 0, [TestTasks.Created(taskId)]), default);
        await Eventually(() => _b.GetAsync(taskId, default), v => v is not null);
        Assert.Single(await _b.ListAsync(default));
    }

    private async Task StartListeningAsync()
    {
        _bListener = new TaskViewChangeListener(_a.Database.ConnectionString, _bChanges, TimeProvider.System, NullLogger<TaskViewChangeListener>.Instance);
        await _bListener.StartAsync(default);
        await Eventually(() => Task.FromResult(_bChanges.Listening), listening => listening);
    }

    private static async Task<T> Eventually<T>(Func<Task<T>> read, Func<T, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            var value = await read();
            if (done(value) || DateTime.UtcNow > deadline) return value;
            await Task.Delay(20);
        }
    }
}
