using Cdc.Application.EventStore;
using Cdc.Application.Tasks;
using Cdc.Domain.Tasks;
using Microsoft.Extensions.Logging;

namespace Cdc.Application.Replication.Supervision;

/// <summary>
/// What a server does with <c>disable_auto_start</c> tasks when it starts, as the reference does on restart: a Running
/// task with that flag whose lease no other server holds (nobody runs it) is paused with
/// <see cref="DisabledAutoStartReason"/> instead of being started.
/// </summary>
public sealed class AutoStartPolicy(string owner, ITaskViews views, TaskStreams streams, ITaskLeases leases, TimeProvider clock, ILogger logger)
{
    /// <summary>The reason the reference records for a task paused at start because of disable_auto_start.</summary>
    public const string DisabledAutoStartReason = "the task is disabled auto start";

    public async Task ApplyAsync(CancellationToken cancellationToken)
    {
        foreach (var view in await views.ListAsync(cancellationToken))
        {
            if (view is not { State: TaskState.Running, DisableAutoStart: true }) continue;
            if (!await leases.TryAcquireAsync(view.TaskId, owner, SupervisorOptions.Default.LeaseTtl, cancellationToken)) continue;
            try
            {
                var task = await streams.LoadStateAsync(view.TaskId, cancellationToken);
                if (task is not { Exists: true, State: TaskState.Running }) continue;
                await streams.AppendAsync(task, task.Pause(DisabledAutoStartReason, clock.GetUtcNow()), cancellationToken);
                logger.LogInformation("task {TaskId} is paused: it is disabled auto start", view.TaskId);
            }
            catch (ConcurrencyConflict)
            {
                // changed by an operator at the same moment: their decision stands
            }
            finally
            {
                await leases.ReleaseAsync(view.TaskId, owner, cancellationToken);
            }
        }
    }
}
