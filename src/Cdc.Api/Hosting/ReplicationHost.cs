using Cdc.Application.EventStore;
using Cdc.Application.Replication;
using Cdc.Application.Replication.Ports;
using Cdc.Application.Tasks;

namespace Cdc.Api.Hosting;

/// <summary>
/// This server's part in running the tasks: its owner id (the name its task leases carry), whether it can replicate
/// at all (an engine is registered), and the start-up step that pauses <c>disable_auto_start</c> tasks. Which tasks it
/// runs is decided by Wolverine's agent assignment (<see cref="TaskAgentFamily"/>); each runs as a
/// <see cref="SupervisedTaskRun"/>.
/// </summary>
public sealed class ReplicationHost(IServiceProvider services, ILogger<ReplicationHost> logger) : IHostedService
{
    private volatile ReplicationWorkerState _state = ReplicationWorkerState.Starting;

    public string Owner { get; } = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid():N}";

    /// <summary>The engine that replicates a task, or null when this build has none (tasks are recorded only).</summary>
    public ITaskReplication? Replication { get; } = services.GetService<ITaskReplication>();

    public ReplicationWorkerState State => _state;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (Replication is null)
        {
            _state = ReplicationWorkerState.NotConfigured;
            logger.LogWarning("no replication engine is registered in this build: tasks are recorded but not replicated");
            return;
        }

        await new AutoStartPolicy(Owner, services.GetRequiredService<ITaskViews>(), services.GetRequiredService<IEventStore>(),
            services.GetRequiredService<ITaskLeases>(), services.GetRequiredService<TimeProvider>(), logger).ApplyAsync(cancellationToken);
        _state = ReplicationWorkerState.Running;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        if (_state == ReplicationWorkerState.Running) _state = ReplicationWorkerState.Stopped;
        return Task.CompletedTask;
    }
}
