using System.Collections.Concurrent;
using Cdc.Application.EventStore;
using Cdc.Application.Replication.Supervision;
using Cdc.Application.Tasks;

namespace Cdc.Api.Hosting;

/// <summary>
/// This server's part in running the tasks: its owner id (the name its task leases carry), whether it can replicate
/// at all (an engine is registered), and the start-up step that pauses <c>disable_auto_start</c> tasks (retried in
/// the background until the event store answers; no task starts here before it is done). Which tasks this server
/// runs is decided by Wolverine's agent assignment (<see cref="TaskAgentFamily"/>); each runs as a
/// <see cref="SupervisedTaskRun"/>.
/// </summary>
public sealed class ReplicationHost(IServiceProvider services, TimeProvider clock, ILogger<ReplicationHost> logger) : IHostedService
{
    private readonly ConcurrentDictionary<string, SupervisedTaskRun> _runs = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _lifetime = new();
    private volatile ReplicationWorkerState _state = ReplicationWorkerState.Starting;
    private Task _starting = Task.CompletedTask;

    public string Owner { get; } = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid():N}";

    /// <summary>The engine that replicates a task, or null when this build has none (tasks are recorded only).</summary>
    public ITaskReplication? Replication { get; } = services.GetService<ITaskReplication>();

    public ReplicationWorkerState State => _state;

    /// <summary>Why the start-up step has not succeeded yet, while it is retried.</summary>
    public string? StartError { get; private set; }

    /// <summary>The tasks whose replication runs on this server now (their agent is here and holds the lease).</summary>
    public IReadOnlyCollection<string> RunningTasks => _runs.Values.Where(r => r.IsRunning).Select(r => r.TaskId).ToList();

    internal void Started(SupervisedTaskRun run) => _runs[run.TaskId] = run;

    internal void Stopped(SupervisedTaskRun run) => _runs.TryRemove(KeyValuePair.Create(run.TaskId, run));

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (Replication is null)
        {
            _state = ReplicationWorkerState.NotConfigured;
            logger.LogWarning("no replication engine is registered in this build: tasks are recorded but not replicated");
            return Task.CompletedTask;
        }

        _starting = Task.Run(() => ApplyStartupPolicyAsync(_lifetime.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task ApplyStartupPolicyAsync(CancellationToken ct)
    {
        var policy = new AutoStartPolicy(Owner, services.GetRequiredService<ITaskViews>(), services.GetRequiredService<TaskStreams>(),
            services.GetRequiredService<ITaskLeases>(), clock, logger);
        var delay = TimeSpan.FromMilliseconds(500);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await policy.ApplyAsync(ct);
                StartError = null;
                _state = ReplicationWorkerState.Running;
                return;
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                StartError = ex.Message;
                logger.LogWarning(ex, "the replication cannot start yet (retrying in {Delay})", delay);
                await Task.Delay(delay, clock, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
            }
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _lifetime.CancelAsync();
        await _starting;
        if (_state == ReplicationWorkerState.Running) _state = ReplicationWorkerState.Stopped;
    }
}
