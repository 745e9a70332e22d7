using Cdc.Application.EventStore;
using Cdc.Application.Replication;
using Cdc.Domain.Events;
using Cdc.Domain.Tasks;
using Cdc.Infrastructure.EventStore;
using Cdc.Infrastructure.Tests.EventStore;
using Cdc.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cdc.Infrastructure.Tests.Replication;

public sealed class ReplicationSupervisorTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;
    private EventStoreHarness _h = null!;
    private PostgresTaskLeases _leases = null!;
    private readonly RecordingReplication _replication = new();

    public async Task InitializeAsync()
    {
        _h = await EventStoreHarness.StartAsync();
        _leases = new PostgresTaskLeases(_h.DataSource, _h.Options);
    }

    public async Task DisposeAsync() => await _h.DisposeAsync();

    private ReplicationSupervisor Supervisor(string owner, TimeSpan? ttl = null) =>
        new(owner, _h.Views, _h.Store, _leases, _replication, TimeProvider.System, NullLogger.Instance,
            new SupervisorOptions(ttl ?? TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(10)));

    private async Task CreateAsync(string id, bool disableAutoStart = false)
    {
        var created = EventStoreTests.Created(id);
        created = created with { Definition = created.Definition with { DisableAutoStart = disableAutoStart } };
        await _h.Store.AppendAsync(new StreamAppend(id, StreamTypes.Task, 0, [created]), default);
    }

    private async Task AppendAsync(string id, ITaskEvent e)
    {
        var version = (await _h.Store.FetchStreamAsync(id, default)).Version;
        await _h.Store.AppendAsync(new StreamAppend(id, StreamTypes.Task, version, [e]) { ArchiveStream = e is TaskDeleted }, default);
    }

    private static async Task Eventually(Func<bool> condition, string what)
    {
        for (var i = 0; i < 200 && !condition(); i++) await Task.Delay(25);
        Assert.True(condition(), what);
    }

    [Fact]
    public async Task Created_paused_resumed_and_deleted_tasks_are_started_and_stopped()
    {
        await using var supervisor = Supervisor("server-a");
        await CreateAsync("t1");
        await supervisor.StartAsync(default);
        await Eventually(() => _replication.RunningCount("t1") == 1, "t1 runs after create");
        Assert.Equal("t1", _replication.LastContext["t1"].TaskId);
        Assert.Equal("v1:x", _replication.LastContext["t1"].Definition.Target.Token!.Ciphertext); // from the stream, not the view

        await AppendAsync("t1", new TaskPaused("t1", TaskPaused.ManualReason, Now));
        await supervisor.ReconcileAsync(default);
        Assert.Equal(0, _replication.RunningCount("t1"));
        Assert.Empty(supervisor.RunningTasks);

        await AppendAsync("t1", new TaskResumed("t1", Now));
        await supervisor.ReconcileAsync(default);
        await Eventually(() => _replication.RunningCount("t1") == 1, "t1 runs again after resume");

        await AppendAsync("t1", new TaskDeleted("t1", Now));
        await supervisor.ReconcileAsync(default);
        Assert.Equal(0, _replication.RunningCount("t1"));
        Assert.True(await _leases.TryAcquireAsync("t1", "someone-else", TimeSpan.FromSeconds(5), default), "the lease was released");
    }

    [Fact]
    public async Task Two_servers_never_run_one_task_at_once_and_the_survivor_takes_over()
    {
        await CreateAsync("t1");
        await CreateAsync("t2");
        var a = Supervisor("server-a", TimeSpan.FromSeconds(30));
        await using var b = Supervisor("server-b", TimeSpan.FromSeconds(30));
        await Task.WhenAll(a.StartAsync(default), b.StartAsync(default));
        await a.ReconcileAsync(default);
        await b.ReconcileAsync(default);

        await Eventually(() => _replication.RunningCount("t1") == 1 && _replication.RunningCount("t2") == 1, "both tasks run");
        Assert.Equal(2, a.RunningTasks.Count + b.RunningTasks.Count);
        Assert.Empty(a.RunningTasks.Intersect(b.RunningTasks));

        await a.DisposeAsync(); // server A stops and releases its leases
        await b.ReconcileAsync(default);
        await Eventually(() => b.RunningTasks.Count == 2, "B runs both tasks");
        await Eventually(() => _replication.RunningCount("t1") == 1 && _replication.RunningCount("t2") == 1, "each task runs exactly once");
    }

    [Fact]
    public async Task An_expired_lease_of_a_crashed_server_is_taken_over()
    {
        await CreateAsync("t1");
        Assert.True(await _leases.TryAcquireAsync("t1", "crashed-server", TimeSpan.FromMilliseconds(300), default));
        await using var b = Supervisor("server-b");
        await b.StartAsync(default);
        Assert.Empty(b.RunningTasks);
        await Task.Delay(400);
        await b.ReconcileAsync(default);
        Assert.Equal(["t1"], b.RunningTasks);
        Assert.False(await _leases.RenewAsync("t1", "crashed-server", TimeSpan.FromSeconds(5), default), "the old owner lost it");
    }

    [Fact]
    public async Task A_replication_that_halts_pauses_its_task_with_the_reason()
    {
        await CreateAsync("t1");
        await using var supervisor = Supervisor("server-a");
        await supervisor.StartAsync(default);
        await Eventually(() => _replication.RunningCount("t1") == 1, "t1 runs");

        _replication.Halt("t1", "fail to handle replicate message, err: corrupt message at by-dev-rootcoord-dml_0@42");
        await Eventually(() => _replication.RunningCount("t1") == 0, "the run ended");
        await supervisor.ReconcileAsync(default);

        var view = (await _h.Views.GetAsync("t1", default))!;
        Assert.Equal(TaskState.Paused, view.State);
        Assert.Equal("fail to handle replicate message, err: corrupt message at by-dev-rootcoord-dml_0@42", view.Reason);
        Assert.Empty(supervisor.RunningTasks);
    }

    [Fact]
    public async Task A_halt_pauses_its_task_at_once_without_waiting_for_the_next_reconciliation()
    {
        // Regression: a halt was only handled by the next ReconcileAsync (in the server, the next task event or the
        // 5 s lease tick), so get showed a dead task as Running for up to 5 s, e.g. when it halted right after resume.
        await CreateAsync("t1");
        await using var supervisor = Supervisor("server-a");
        await supervisor.StartAsync(default);
        await Eventually(() => _replication.RunningCount("t1") == 1, "t1 runs");

        _replication.Halt("t1", "fail to handle replicate message, err: cannot decode message");
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(10);
        Cdc.Application.Tasks.TaskView? view;
        while ((view = await _h.Views.GetAsync("t1", default))!.State != TaskState.Paused && DateTimeOffset.UtcNow < deadline)
            await Task.Delay(25);

        Assert.Equal(TaskState.Paused, view.State);
        Assert.Equal("fail to handle replicate message, err: cannot decode message", view.Reason);
        Assert.Empty(supervisor.RunningTasks);

        // The lease was released: another server may take the task once it is resumed.
        await AppendAsync("t1", new TaskResumed("t1", Now));
        await using var other = Supervisor("server-b");
        await other.ReconcileAsync(default);
        Assert.Equal(["t1"], other.RunningTasks);
    }

    [Fact]
    public async Task On_start_a_paused_task_stays_paused_and_disable_auto_start_pauses_with_the_reference_reason()
    {
        await CreateAsync("running");
        await CreateAsync("paused");
        await AppendAsync("paused", new TaskPaused("paused", TaskPaused.ManualReason, Now));
        await CreateAsync("manual", disableAutoStart: true);

        await using var supervisor = Supervisor("server-a");
        await supervisor.StartAsync(default);

        Assert.Equal(["running"], supervisor.RunningTasks);
        var manual = (await _h.Views.GetAsync("manual", default))!;
        Assert.Equal((TaskState.Paused, "the task is disabled auto start"), (manual.State, manual.Reason));
        Assert.Equal(TaskState.Paused, (await _h.Views.GetAsync("paused", default))!.State);
    }
}
