using Cdc.Application.Tasks;
using Cdc.Domain.Changes;
using Cdc.Domain.Tasks;

namespace Cdc.Application.Tests.Tasks;

/// <summary>The health get and list show: status from the task state and the last error, lag from the checkpoints.</summary>
public sealed class TaskHealthTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    private static TaskView View(TaskState state, params (string Channel, DateTimeOffset At)[] checkpoints) => new(
        "t1", new MilvusTarget("http://target:19530", 10), new CollectionSelection([new CollectionInfo("*")], null), null, false,
        state, null,
        [.. checkpoints.Select(c => new ChannelPosition(c.Channel, "AAAAAAAAAAA=", HybridTimestamp.FromTime(c.At).Value, c.At))],
        Now, Now, 1);

    private static TaskRuntimeReport Report(DateTimeOffset? failed, DateTimeOffset? recovered) =>
        new("server-1", failed is null ? null : "cannot write the pack: target unavailable", failed, recovered, Now);

    [Fact]
    public void A_task_with_neither_checkpoint_nor_error_has_no_health_to_show()
    {
        Assert.Null(TaskHealth.Of(View(TaskState.Running), Now));
        Assert.Null(TaskHealth.Of(View(TaskState.Running) with { Runtime = Report(null, null) }, Now));
    }

    [Fact]
    public void The_lag_is_that_of_the_channel_furthest_behind_and_grows_while_nothing_moves()
    {
        var view = View(TaskState.Running, ("ch0", Now.AddMilliseconds(-300)), ("ch1", Now.AddSeconds(-4)));
        Assert.Equal(new TaskHealth(TaskHealth.Replicating, 4000, null, null), TaskHealth.Of(view, Now));
        Assert.Equal(64_000, TaskHealth.Of(view, Now.AddMinutes(1))!.LagMs);
        Assert.Equal(0, TaskHealth.Of(View(TaskState.Running, ("ch0", Now.AddSeconds(2))), Now)!.LagMs); // clocks apart
    }

    [Fact]
    public void The_replicate_channel_which_has_no_time_ticks_does_not_count_for_the_lag()
    {
        var view = View(TaskState.Running, ("by-dev-rootcoord-dml_0", Now.AddMilliseconds(-200)), ("by-dev-replicate-msg", Now.AddHours(-1)));
        Assert.Equal(200, TaskHealth.Of(view, Now, "by-dev-replicate-msg")!.LagMs);
        Assert.Null(TaskHealth.Of(View(TaskState.Running, ("by-dev-replicate-msg", Now.AddHours(-1))), Now, "by-dev-replicate-msg"));
    }

    [Fact]
    public void An_error_not_followed_by_progress_means_retrying_and_stays_visible_after_recovery()
    {
        var failed = Now.AddSeconds(-10);
        var retrying = TaskHealth.Of(View(TaskState.Running) with { Runtime = Report(failed, null) }, Now)!;
        Assert.Equal((TaskHealth.Retrying, "cannot write the pack: target unavailable", failed), (retrying.Status, retrying.LastError, retrying.LastErrorAt));
        Assert.Null(retrying.LagMs);

        Assert.Equal(TaskHealth.Retrying, TaskHealth.Of(View(TaskState.Running) with { Runtime = Report(failed, failed.AddSeconds(-60)) }, Now)!.Status);
        var recovered = TaskHealth.Of(View(TaskState.Running) with { Runtime = Report(failed, failed.AddSeconds(3)) }, Now)!;
        Assert.Equal(TaskHealth.Replicating, recovered.Status);
        Assert.Equal("cannot write the pack: target unavailable", recovered.LastError);
        Assert.Equal(TaskHealth.Paused, TaskHealth.Of(View(TaskState.Paused) with { Runtime = Report(failed, null) }, Now)!.Status);
    }

    [Fact]
    public void Caught_up_shows_only_for_a_running_task_whose_run_reported_it_recently()
    {
        var asOf = Now.AddSeconds(-2);
        var report = Report(null, null) with { CaughtUpSince = Now.AddMinutes(-5), CaughtUpAsOf = asOf };
        var running = View(TaskState.Running) with { Runtime = report };

        Assert.Null(TaskCatchUp.Of(View(TaskState.Running), Now)); // never ran: nothing to tell
        Assert.Equal(new TaskCatchUp(true, Now.AddMinutes(-5), asOf), TaskCatchUp.Of(running, Now));
        Assert.Equal(new TaskCatchUp(false, null, null), TaskCatchUp.Of(View(TaskState.Running) with { Runtime = Report(null, null) }, Now));
        // Paused, stopped, or a report gone stale (its server stopped reporting): not caught up, whatever it said.
        Assert.False(TaskCatchUp.Of(running with { State = TaskState.Paused }, Now)!.CaughtUp);
        Assert.False(TaskCatchUp.Of(running with { Runtime = report with { StoppedAt = Now } }, Now)!.CaughtUp);
        Assert.True(TaskCatchUp.Of(running, asOf + TaskCatchUp.StaleAfter)!.CaughtUp);
        Assert.False(TaskCatchUp.Of(running, asOf + TaskCatchUp.StaleAfter + TimeSpan.FromSeconds(1))!.CaughtUp);
    }
}
