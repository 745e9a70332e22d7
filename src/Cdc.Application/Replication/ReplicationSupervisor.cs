using Cdc.Application.EventStore;
using Cdc.Application.Replication.Ports;
using Cdc.Application.Tasks;
using Cdc.Domain.Events;
using Cdc.Domain.Tasks;
using Microsoft.Extensions.Logging;

namespace Cdc.Application.Replication;

public sealed record SupervisorOptions(TimeSpan LeaseTtl, TimeSpan StopTimeout)
{
    public static SupervisorOptions Default { get; } = new(TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(30));
}

/// <summary>
/// Reconciles the tasks' desired states (the task projection) with the replications this process runs: a Running
/// task whose lease this process can take is started; a task that is paused, deleted or whose lease was lost is
/// stopped; a replication that halts pauses its task with the reason as soon as it halts. A task this process ran
/// that is gone (deleted) is handed to <c>forget</c> (its metrics and runtime report). Called on every task event and
/// on every lease renewal tick by the hosting worker.
/// </summary>
public sealed class ReplicationSupervisor(
    string owner,
    ITaskViews views,
    IEventStore store,
    ITaskLeases leases,
    ITaskReplication replication,
    TimeProvider clock,
    ILogger logger,
    SupervisorOptions? options = null,
    Func<string, CancellationToken, Task>? forget = null) : IAsyncDisposable
{
    /// <summary>The reason the reference records for a task paused at start because of disable_auto_start.</summary>
    public const string DisabledAutoStartReason = "the task is disabled auto start";

    private readonly SupervisorOptions _options = options ?? SupervisorOptions.Default;
    private readonly Dictionary<string, RunningTask> _running = new();
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly HashSet<string> _ran = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _lifetime = new();

    public string Owner { get; } = owner;

    public IReadOnlyCollection<string> RunningTasks
    {
        get { lock (_running) return _running.Keys.ToList(); }
    }

    /// <summary>
    /// The first reconciliation after the process starts: Running tasks with <c>disable_auto_start</c> whose lease
    /// is free are paused instead of started (as the reference does on restart); the rest as usual.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var view in await views.ListAsync(cancellationToken))
        {
            if (view is not { State: TaskState.Running, DisableAutoStart: true }) continue;
            if (!await leases.TryAcquireAsync(view.TaskId, Owner, _options.LeaseTtl, cancellationToken)) continue;
            try
            {
                await PauseAsync(view.TaskId, DisabledAutoStartReason, cancellationToken);
            }
            finally
            {
                await leases.ReleaseAsync(view.TaskId, Owner, cancellationToken);
            }
        }
        await ReconcileAsync(cancellationToken);
    }

    public async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await ReapFinishedAsync(cancellationToken);
            var all = await views.ListAsync(cancellationToken);
            var desired = all.Where(v => v.State == TaskState.Running).ToDictionary(v => v.TaskId);

            foreach (var taskId in RunningTasks)
            {
                if (!desired.ContainsKey(taskId))
                    await StopAsync(taskId, release: true, "the task is no longer running");
                else if (!await leases.RenewAsync(taskId, Owner, _options.LeaseTtl, cancellationToken))
                    await StopAsync(taskId, release: false, "the lease was taken by another server");
            }

            foreach (var view in desired.Values.Where(v => !RunningTasks.Contains(v.TaskId)))
            {
                if (!await leases.TryAcquireAsync(view.TaskId, Owner, _options.LeaseTtl, cancellationToken)) continue;
                await StartTaskAsync(view, cancellationToken);
            }

            await ForgetDeletedAsync(all, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task ForgetDeletedAsync(IReadOnlyList<TaskView> all, CancellationToken cancellationToken)
    {
        var known = all.Select(v => v.TaskId).ToHashSet(StringComparer.Ordinal);
        foreach (var taskId in _ran.Where(id => !known.Contains(id) && !RunningTasks.Contains(id)).ToList())
        {
            _ran.Remove(taskId);
            if (forget is null) continue;
            try
            {
                await forget(taskId, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "could not forget the metrics and report of deleted task {TaskId}", taskId);
            }
        }
    }

    private async Task StartTaskAsync(TaskView view, CancellationToken cancellationToken)
    {
        var task = await new TaskStreams(store).LoadAsync(view.TaskId, cancellationToken);
        if (task is not { Exists: true, State: TaskState.Running, Definition: { } definition })
        {
            await leases.ReleaseAsync(view.TaskId, Owner, cancellationToken);
            return;
        }
        var stop = new CancellationTokenSource();
        var context = new TaskRunContext(view.TaskId, definition, view.Positions, Owner, view.Runtime);
        _ran.Add(view.TaskId);
        logger.LogInformation("starting the replication of task {TaskId} on {Owner}", view.TaskId, Owner);
        var run = Task.Run(() => replication.RunAsync(context, stop.Token), CancellationToken.None);
        lock (_running) _running[view.TaskId] = new RunningTask(stop, run);
        _ = run.ContinueWith(_ => ReapAsync(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();
    }

    /// <summary>
    /// Handles a replication that ended as soon as it ended, rather than at the next reconciliation (the host's next
    /// task event or lease tick, seconds later), so a halted task shows Paused with its reason at once. A run this
    /// supervisor stopped is no longer listed by then, so this does nothing for it.
    /// </summary>
    private async Task ReapAsync()
    {
        try
        {
            await _gate.WaitAsync(_lifetime.Token);
            try
            {
                await ReapFinishedAsync(_lifetime.Token);
            }
            finally
            {
                _gate.Release();
            }
        }
        catch (OperationCanceledException) when (_lifetime.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "handling an ended replication failed");
        }
    }

    /// <summary>Handles replications that ended by themselves: a halt pauses the task with its reason.</summary>
    private async Task ReapFinishedAsync(CancellationToken cancellationToken)
    {
        List<KeyValuePair<string, RunningTask>> finished;
        lock (_running) finished = _running.Where(kv => kv.Value.Run.IsCompleted).ToList();
        foreach (var (taskId, running) in finished)
        {
            lock (_running) _running.Remove(taskId);
            running.Stop.Dispose();
            var reason = running.Run.Exception?.InnerException switch
            {
                ReplicationHalted halted => halted.Reason,
                { } other => $"fail to replicate, err: {other.Message}",
                null => "the replication stopped unexpectedly",
            };
            logger.LogWarning("the replication of task {TaskId} halted: {Reason}", taskId, reason);
            await PauseAsync(taskId, reason, cancellationToken);
            await leases.ReleaseAsync(taskId, Owner, cancellationToken);
        }
    }

    private async Task PauseAsync(string taskId, string reason, CancellationToken cancellationToken)
    {
        var streams = new TaskStreams(store);
        var task = await streams.LoadAsync(taskId, cancellationToken);
        if (task is not { Exists: true, State: TaskState.Running }) return;
        try
        {
            await streams.AppendAsync(task, task.Pause(reason, clock.GetUtcNow()), cancellationToken);
        }
        catch (ConcurrencyConflict)
        {
            // An operator changed the task at the same moment; their decision stands, the next pass reconciles.
        }
    }

    private async Task StopAsync(string taskId, bool release, string why)
    {
        RunningTask? running;
        lock (_running)
        {
            if (!_running.Remove(taskId, out running)) return;
        }
        logger.LogInformation("stopping the replication of task {TaskId}: {Why}", taskId, why);
        await running.Stop.CancelAsync();
        try
        {
            await running.Run.WaitAsync(_options.StopTimeout);
        }
        catch (OperationCanceledException) { }
        catch (TimeoutException)
        {
            logger.LogError("the replication of task {TaskId} did not stop within {Timeout}", taskId, _options.StopTimeout);
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "the replication of task {TaskId} failed while stopping", taskId);
        }
        running.Stop.Dispose();
        if (release) await leases.ReleaseAsync(taskId, Owner, CancellationToken.None);
    }

    /// <summary>Stops every replication of this process and releases its leases (shutdown).</summary>
    public async ValueTask DisposeAsync()
    {
        await _lifetime.CancelAsync();
        await _gate.WaitAsync();
        try
        {
            foreach (var taskId in RunningTasks) await StopAsync(taskId, release: true, "the server is stopping");
        }
        finally
        {
            _gate.Release();
        }
    }

    private sealed record RunningTask(CancellationTokenSource Stop, Task Run);
}
