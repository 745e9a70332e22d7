using Cdc.Application.EventStore;
using Cdc.Application.Replication.Supervision;
using Cdc.Domain.Events;
using Cdc.Domain.Tasks;
using Cdc.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cdc.Application.Tests.Supervision;

/// <summary>One task's run on a server, fenced by its lease in PostgreSQL.</summary>
public sealed class SupervisedTaskRunTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;
    private static readonly SupervisorOptions Fast = new(TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(10));
    private EventStoreHarness _h = null!;
    private readonly RecordingReplication _replication = new();

    public async Task InitializeAsync() => _h = await EventStoreHarness.StartAsync();
    public async Task DisposeAsync() => await _h.DisposeAsync();

    private SupervisedTaskRun Run(string taskId, string owner, SupervisorOptions? options = null, TaskStartPacer? pacer = null) =>
        new(taskId, owner, _h.Streams, _h.Leases, _replication, _h.Views, TimeProvider.System, NullLogger.Instance, options ?? Fast, pacer);

    private async Task CreateAsync(string id, bool disableAutoStart = false)
    {
        var created = TestTasks.Created(id);
        created = created with { Definition = created.Definition with { DisableAutoStart = disableAutoStart } };
        await _h.Store.AppendAsync(new StreamAppend(id, StreamTypes.Task, 0, [created]), default);
    }

    private async Task AppendAsync(string id, ITaskEvent e)
    {
        var version = (await _h.Store.FetchStreamAsync(id, default)).Version;
        await _h.Store.AppendAsync(new StreamAppend(id, StreamTypes.Task, version, [e]), default);
    }

    private static async Task Eventually(Func<bool> condition, string what)
    {
        for (var i = 0; i < 400 && !condition(); i++) await Task.Delay(25);
        Assert.True(condition(), what);
    }

    [Fact]
    public async Task A_running_task_runs_with_its_stream_and_a_stop_ends_it_and_releases_the_lease()
    {
        await CreateAsync("t1");
        await using var run = Run("t1", "server-a");
        run.Start();
        await Eventually(() => _replication.RunningCount("t1") == 1, "t1 runs");
        Assert.Equal("v1:x", _replication.LastContext["t1"].Definition.Target.Token!.Ciphertext); // from the stream, not the view
        Assert.Equal("server-a", _replication.LastContext["t1"].Owner);

        await run.StopAsync();
        Assert.Equal(0, _replication.RunningCount("t1"));
        Assert.True(await _h.Leases.TryAcquireAsync("t1", "someone-else", TimeSpan.FromSeconds(5), default), "the lease was released");
    }

    [Fact]
    public async Task With_one_start_a_second_three_tasks_start_one_after_the_other()
    {
        var pacer = new TaskStartPacer(1, TimeProvider.System);
        string[] ids = ["p1", "p2", "p3"];
        foreach (var id in ids) await CreateAsync(id);
        var runs = ids.Select(id => Run(id, "server-a", pacer: pacer)).ToList();
        try
        {
            var started = new Dictionary<string, DateTimeOffset>();
            foreach (var run in runs) run.Start();
            var deadline = DateTimeOffset.UtcNow.AddSeconds(10);
            while (started.Count < ids.Length && DateTimeOffset.UtcNow < deadline)
            {
                foreach (var id in ids.Where(id => !started.ContainsKey(id) && _replication.RunningCount(id) == 1)) started[id] = DateTimeOffset.UtcNow;
                await Task.Delay(10);
            }

            Assert.Equal(ids.Length, started.Count);
            var times = started.Values.Order().ToList();
            // One a second (the turns are a second apart; a start's own work before it runs, its lease and stream, takes
            // longer the first time): unpaced, all three would run within a few tens of milliseconds.
            Assert.True(times[1] - times[0] >= TimeSpan.FromMilliseconds(500), $"second start {(times[1] - times[0]).TotalMilliseconds} ms after the first");
            Assert.True(times[2] - times[0] >= TimeSpan.FromMilliseconds(1500), $"third start {(times[2] - times[0]).TotalMilliseconds} ms after the first");
        }
        finally
        {
            foreach (var run in runs) await run.DisposeAsync();
        }
    }

    [Fact]
    public async Task Tasks_waiting_for_another_servers_lease_do_not_hold_up_the_starts_of_others()
    {
        var ids = Enumerable.Range(1, 8).Select(i => $"held{i}").ToList();
        foreach (var id in ids) await CreateAsync(id);
        await CreateAsync("free");
        // Server a runs the eight tasks; server b, two starts a second, waits for their leases (a failover in progress).
        var pacer = new TaskStartPacer(2, TimeProvider.System);
        var onA = ids.Select(id => Run(id, "server-a")).ToList();
        var onB = ids.Select(id => Run(id, "server-b", pacer: pacer)).ToList();
        await using var free = Run("free", "server-b", pacer: pacer);
        try
        {
            foreach (var run in onA) run.Start();
            await Eventually(() => ids.All(id => _replication.RunningCount(id) == 1), "server a runs the eight tasks");
            foreach (var run in onB) run.Start();
            await Task.Delay(1500); // b's runs poll the leases every 60 ms meanwhile

            var asked = DateTimeOffset.UtcNow;
            free.Start();
            await Eventually(() => _replication.RunningCount("free") == 1, "the free task runs");
            // Had each poll taken a turn, the free task would queue behind the eight pollers' turns (up to 4 s).
            Assert.True(DateTimeOffset.UtcNow - asked < TimeSpan.FromSeconds(1.5), $"the free task started {(DateTimeOffset.UtcNow - asked).TotalMilliseconds} ms after it was asked to");
            Assert.All(ids, id => Assert.Equal(1, _replication.RunningCount(id))); // still once each, on server a
        }
        finally
        {
            foreach (var run in onB.Concat(onA)) await run.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_paused_or_deleted_task_is_not_started()
    {
        await CreateAsync("paused");
        await AppendAsync("paused", new TaskPaused("paused", TaskPaused.ManualReason, Now));
        await CreateAsync("deleted");
        await AppendAsync("deleted", new TaskDeleted("deleted", Now));
        await using var a = Run("paused", "server-a");
        await using var b = Run("deleted", "server-a");
        a.Start();
        b.Start();
        await Task.Delay(500);
        await a.StopAsync();
        await b.StopAsync();
        Assert.Empty(_replication.Log);
    }

    [Fact]
    public async Task Two_servers_never_run_one_task_at_once_and_the_second_takes_over_when_the_first_stops()
    {
        await CreateAsync("t1");
        await using var a = Run("t1", "server-a");
        a.Start();
        await Eventually(() => a.IsRunning, "A runs t1");
        // The placement moved t1 to B while A still runs it (A looked dead, say): B waits for A's lease.
        await using var b = Run("t1", "server-b");
        b.Start();
        await Task.Delay(1000);
        Assert.Equal(1, _replication.RunningCount("t1"));
        Assert.False(b.IsRunning);

        await a.StopAsync();
        await Eventually(() => b.IsRunning, "B runs t1 once A released it");
        Assert.Equal(1, _replication.RunningCount("t1"));
        Assert.Equal("server-b", _replication.LastContext["t1"].Owner);
    }

    [Fact]
    public async Task The_expired_lease_of_a_crashed_server_is_taken_over_and_the_old_owner_cannot_renew_it()
    {
        await CreateAsync("t1");
        Assert.True(await _h.Leases.TryAcquireAsync("t1", "crashed-server", TimeSpan.FromMilliseconds(800), default));
        await using var b = Run("t1", "server-b");
        b.Start();
        await Task.Delay(300);
        Assert.Equal(0, _replication.RunningCount("t1"));
        await Eventually(() => b.IsRunning, "B takes over once the lease expired");
        Assert.False(await _h.Leases.RenewAsync("t1", "crashed-server", TimeSpan.FromSeconds(5), default), "the old owner lost it");
    }

    [Fact]
    public async Task A_run_whose_task_was_paused_or_deleted_stops_at_its_next_renewal_without_being_told_and_a_resume_runs_it_again()
    {
        // Nobody stops these runs (in the server, the cluster stops a paused task's agent): each notices by itself.
        await CreateAsync("t1");
        await CreateAsync("t2");
        await using var a = Run("t1", "server-a");
        await using var b = Run("t2", "server-a");
        a.Start();
        b.Start();
        await Eventually(() => _replication.RunningCount("t1") == 1 && _replication.RunningCount("t2") == 1, "both run");

        await AppendAsync("t1", new TaskPaused("t1", "", DateTimeOffset.UtcNow));
        await AppendAsync("t2", new TaskDeleted("t2", DateTimeOffset.UtcNow));
        await Eventually(() => _replication.RunningCount("t1") == 0 && _replication.RunningCount("t2") == 0, "both stopped at a renewal");
        Assert.False(a.IsRunning);

        // Resumed while this server still supervises it (the cluster has not stopped its agent): it runs here again.
        await AppendAsync("t1", new TaskResumed("t1", DateTimeOffset.UtcNow));
        await Eventually(() => _replication.RunningCount("t1") == 1, "t1 runs again after its resume");
    }

    [Fact]
    public async Task A_run_whose_lease_is_taken_stops_at_once()
    {
        await CreateAsync("t1");
        await using var a = Run("t1", "server-a");
        a.Start();
        await Eventually(() => a.IsRunning, "A runs t1");
        // Someone else holds the lease now (A was thought dead for longer than the lease's life).
        await _h.Leases.ReleaseAsync("t1", "server-a", default);
        Assert.True(await _h.Leases.TryAcquireAsync("t1", "server-b", TimeSpan.FromSeconds(30), default));
        await Eventually(() => _replication.RunningCount("t1") == 0, "A's run stopped at its next renewal");
    }

    [Fact]
    public async Task A_run_that_halts_pauses_its_task_at_once_with_the_reason_and_releases_the_lease()
    {
        await CreateAsync("t1");
        await using var run = Run("t1", "server-a");
        run.Start();
        await Eventually(() => _replication.RunningCount("t1") == 1, "t1 runs");

        _replication.Halt("t1", "fail to handle replicate message, err: corrupt message at by-dev-rootcoord-dml_0@42");
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(10);
        Cdc.Application.Tasks.TaskView? view;
        while ((view = await _h.Views.GetAsync("t1", default))!.State != TaskState.Paused && DateTimeOffset.UtcNow < deadline)
            await Task.Delay(25);
        Assert.Equal(TaskState.Paused, view.State);
        Assert.Equal("fail to handle replicate message, err: corrupt message at by-dev-rootcoord-dml_0@42", view.Reason);
        Assert.False(run.IsRunning);
        await Eventually(() => _h.Leases.TryAcquireAsync("t1", "server-b", TimeSpan.FromSeconds(5), default).GetAwaiter().GetResult(), "the lease was released");
    }

    [Fact]
    public async Task On_start_disable_auto_start_tasks_nobody_runs_are_paused_with_the_reference_reason()
    {
        await CreateAsync("running");
        await CreateAsync("manual", disableAutoStart: true);
        await CreateAsync("held", disableAutoStart: true);
        Assert.True(await _h.Leases.TryAcquireAsync("held", "another-live-server", TimeSpan.FromSeconds(30), default));

        await new AutoStartPolicy("server-a", _h.Views, _h.Streams, _h.Leases, TimeProvider.System, NullLogger.Instance).ApplyAsync(default);

        var manual = (await _h.Views.GetAsync("manual", default))!;
        Assert.Equal((TaskState.Paused, AutoStartPolicy.DisabledAutoStartReason), (manual.State, manual.Reason));
        Assert.Equal(TaskState.Running, (await _h.Views.GetAsync("running", default))!.State);
        Assert.Equal(TaskState.Running, (await _h.Views.GetAsync("held", default))!.State); // another server runs it
    }
}
