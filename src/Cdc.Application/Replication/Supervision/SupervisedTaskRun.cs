using Cdc.Application.EventStore;
using Cdc.Application.Tasks;
using Cdc.Domain.Tasks;
using Microsoft.Extensions.Logging;

namespace Cdc.Application.Replication.Supervision;

/// <summary>How a supervised run holds its task: the lease's time to live and renewal, and how long a stop may take.</summary>
public sealed record SupervisorOptions(TimeSpan LeaseTtl, TimeSpan LeaseRenewal, TimeSpan StopTimeout)
{
    public static SupervisorOptions Default { get; } = new(TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30));
}

/// <summary>
/// One task's replication on this server, for as long as the placement of tasks (the server's cluster) gives the task
/// to this server. The task's lease is the fence: the run starts only once this server holds it (a crashed server's
/// lease expires after <see cref="SupervisorOptions.LeaseTtl"/>, judged by the database's clock), is renewed while the
/// run goes on, and a run whose lease is lost stops at once, so two servers never run one task at the same time,
/// whatever the placement believes. A run that halts pauses its task with the halt's reason (as the reference does);
/// a task that is not Running is not started, and a run whose task stops being Running stops at its next renewal.
/// Supervision ends with the task's deletion or when the placement stops it; a paused task's state is looked at each
/// renewal until then. With a <see cref="TaskStartPacer"/>, a start that got the lease waits for its turn.
/// </summary>
public sealed class SupervisedTaskRun(
    string taskId,
    string owner,
    TaskStreams streams,
    ITaskLeases leases,
    ITaskReplication replication,
    ITaskViews views,
    TimeProvider clock,
    ILogger logger,
    SupervisorOptions? options = null,
    TaskStartPacer? pacer = null) : IAsyncDisposable
{
    private readonly SupervisorOptions _options = options ?? SupervisorOptions.Default;
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private long _renewedAt;

    public string TaskId { get; } = taskId;

    /// <summary>Whether the task's replication runs on this server now (the lease is held and the run has not ended).</summary>
    public bool IsRunning { get; private set; }

    /// <summary>Starts supervising in the background; returns at once.</summary>
    public void Start() => _loop ??= Task.Run(() => SuperviseAsync(_stop.Token), CancellationToken.None);

    /// <summary>Stops the run (if any), waits for it to end and releases the lease.</summary>
    public async Task StopAsync()
    {
        if (!_stop.IsCancellationRequested) await _stop.CancelAsync();
        if (_loop is null) return;
        try
        {
            await _loop.WaitAsync(_options.StopTimeout);
        }
        catch (TimeoutException)
        {
            logger.LogError("the replication of task {TaskId} did not stop within {Timeout}", TaskId, _options.StopTimeout);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }

    private async Task SuperviseAsync(CancellationToken ct)
    {
        var waitingSaid = false;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (!await leases.TryAcquireAsync(TaskId, owner, _options.LeaseTtl, ct))
                {
                    // Another server still holds it: it has not stopped yet, or it died and its lease has not expired.
                    if (!waitingSaid) logger.LogInformation("task {TaskId} waits for the lease held by another server", TaskId);
                    waitingSaid = true;
                    await Task.Delay(_options.LeaseRenewal / 5, clock, ct);
                    continue;
                }

                RunEnd end;
                try
                {
                    if (!await WaitTurnAsync(ct))
                    {
                        logger.LogWarning("task {TaskId}: the lease was lost while its start waited for its turn", TaskId);
                        continue;
                    }

                    end = await RunOnceAsync(ct);
                }
                finally
                {
                    await leases.ReleaseAsync(TaskId, owner, CancellationToken.None);
                }

                if (end == RunEnd.RunAgain) continue;
                if (end == RunEnd.TaskGone) return;
                // Paused (by an operator or by a halt): the cluster stops this task's agent. Until it does, the task's
                // state is looked at again each renewal, so that a resume that reaches this agent before that stop
                // still runs the task (the agent would otherwise stay "running" with nothing running).
                await Task.Delay(_options.LeaseRenewal, clock, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "supervising task {TaskId} failed; trying again", TaskId);
                await Task.Delay(_options.LeaseRenewal, clock, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>
    /// Waits for this start's turn (<see cref="TaskStartPacer"/>), holding the lease: only a start that got its lease
    /// takes a turn, so tasks waiting for another server's lease (a failover) do not fill the queue with polls. A wait
    /// as long as a renewal period ends with a renewal; false when the lease was lost meanwhile.
    /// </summary>
    private async Task<bool> WaitTurnAsync(CancellationToken ct)
    {
        if (pacer is null) return true;
        var asked = clock.GetTimestamp();
        _renewedAt = asked;
        await pacer.WaitTurnAsync(ct);
        return clock.GetElapsedTime(asked) < _options.LeaseRenewal || await RenewAsync(ct);
    }

    /// <summary>How a run under the lease ended, and so what the supervision does next.</summary>
    private enum RunEnd
    {
        /// <summary>The run stopped while its task is still to run (the lease was lost, say): take the lease again.</summary>
        RunAgain,

        /// <summary>The task is not to run (any more): not Running, or halted and paused. Look again each renewal.</summary>
        NotRunning,

        /// <summary>The task was found deleted (or never created): the supervision ends.</summary>
        TaskGone,
    }

    /// <summary>One run under the lease.</summary>
    private async Task<RunEnd> RunOnceAsync(CancellationToken ct)
    {
        var task = await streams.LoadAsync(TaskId, ct);
        if (task is not { Exists: true }) return RunEnd.TaskGone;
        if (task is not { State: TaskState.Running, Definition: { } definition }) return RunEnd.NotRunning;
        var view = await views.GetAsync(TaskId, ct);
        var context = new TaskRunContext(TaskId, definition, view?.Positions ?? [], owner, view?.Runtime);

        using var run = CancellationTokenSource.CreateLinkedTokenSource(ct);
        _renewedAt = clock.GetTimestamp();
        logger.LogInformation("starting the replication of task {TaskId} on {Owner}", TaskId, owner);
        IsRunning = true;
        var replicating = Task.Run(() => replication.RunAsync(context, run.Token), CancellationToken.None);
        try
        {
            while (await Task.WhenAny(replicating, Task.Delay(_options.LeaseRenewal, clock, ct)) != replicating)
            {
                if (!await RenewAsync(ct))
                {
                    logger.LogWarning("task {TaskId}: the lease was lost to another server; stopping its replication here", TaskId);
                    await run.CancelAsync();
                    break;
                }

                if (await StillRunningAsync(ct)) continue;
                logger.LogInformation("task {TaskId} is no longer Running; stopping its replication here", TaskId);
                await run.CancelAsync();
                break;
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // stopping: the run is cancelled with the same token
        }

        try
        {
            await replicating.WaitAsync(_options.StopTimeout, CancellationToken.None);
        }
        catch (ReplicationHalted halted) when (!run.IsCancellationRequested)
        {
            IsRunning = false;
            logger.LogWarning("the replication of task {TaskId} halted: {Reason}", TaskId, halted.Reason);
            await PauseAsync(halted.Reason);
            return RunEnd.NotRunning;
        }
        catch (Exception ex) when (ex is OperationCanceledException or ReplicationHalted && run.IsCancellationRequested)
        {
        }
        catch (TimeoutException)
        {
            logger.LogError("the replication of task {TaskId} did not stop within {Timeout}", TaskId, _options.StopTimeout);
        }
        catch (Exception ex) when (!run.IsCancellationRequested)
        {
            IsRunning = false;
            logger.LogWarning(ex, "the replication of task {TaskId} failed", TaskId);
            await PauseAsync($"fail to replicate, err: {ex.Message}");
            return RunEnd.NotRunning;
        }
        finally
        {
            IsRunning = false;
        }

        return ct.IsCancellationRequested ? RunEnd.NotRunning : RunEnd.RunAgain;
    }

    /// <summary>
    /// Whether the task is still Running, read at each renewal from the task projection (one row): a pause or
    /// delete normally stops the run at once through the cluster (its agent is stopped wherever it runs), and this is
    /// the net under that, so that a pause stops the replication within one renewal even when the cluster's messages lag.
    /// A read that fails is no answer: the lease decides then.
    /// </summary>
    private async Task<bool> StillRunningAsync(CancellationToken ct)
    {
        try
        {
            return await streams.LoadStateAsync(TaskId, ct) is { Exists: true, State: TaskState.Running };
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "task {TaskId}: reading its state failed", TaskId);
            return true;
        }
    }

    /// <summary>
    /// Extends the lease. A database hiccup is not a loss, unless it lasts so long that the lease may have expired
    /// (one renewal before its time to live is up): then another server may take it, and this run must end first.
    /// </summary>
    private async Task<bool> RenewAsync(CancellationToken ct)
    {
        try
        {
            var renewed = await leases.RenewAsync(TaskId, owner, _options.LeaseTtl, ct);
            if (renewed) _renewedAt = clock.GetTimestamp();
            return renewed;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "task {TaskId}: renewing the lease failed", TaskId);
            return clock.GetElapsedTime(_renewedAt) < _options.LeaseTtl - _options.LeaseRenewal;
        }
    }

    private async Task PauseAsync(string reason)
    {
        try
        {
            var task = await streams.LoadStateAsync(TaskId, CancellationToken.None);
            if (task is not { Exists: true, State: TaskState.Running }) return;
            await streams.AppendAsync(task, task.Pause(reason, clock.GetUtcNow()), CancellationToken.None);
        }
        catch (ConcurrencyConflict)
        {
            // An operator changed the task at the same moment; their decision stands.
        }
    }
}
