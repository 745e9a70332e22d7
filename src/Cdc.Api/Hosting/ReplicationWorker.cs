using Cdc.Application.EventStore;
using Cdc.Application.Metrics;
using Cdc.Application.Replication;
using Cdc.Application.Replication.Ports;
using Cdc.Application.Tasks;

namespace Cdc.Api.Hosting;

/// <summary>
/// The hosted replication worker: reconciles once at start, then follows the task events through the event feed
/// (woken by NOTIFY) and renews its leases on every tick, reconciling each time. One owner id per process.
/// </summary>
public sealed class ReplicationWorker(
    IServiceProvider services,
    IEventFeed feed,
    ITaskViews views,
    IEventStore store,
    ITaskLeases leases,
    ICdcMetrics metrics,
    ITaskRuntimeReports reports,
    TimeProvider clock,
    ILogger<ReplicationWorker> logger) : BackgroundService
{
    /// <summary>How often leases are renewed (and expired ones of crashed servers taken over).</summary>
    public static readonly TimeSpan Tick = TimeSpan.FromSeconds(5);

    public string Owner { get; } = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid():N}";

    public ReplicationSupervisor? Supervisor { get; private set; }

    private volatile bool _notConfigured;
    private volatile bool _started;

    /// <summary>Where the worker is, from its execution task and how far it got (for readiness).</summary>
    public ReplicationWorkerState State => ExecuteTask switch
    {
        null => ReplicationWorkerState.Starting,
        { IsFaulted: true } => ReplicationWorkerState.Faulted,
        { IsCompleted: true } => _notConfigured ? ReplicationWorkerState.NotConfigured : ReplicationWorkerState.Stopped,
        _ => _started ? ReplicationWorkerState.Running : ReplicationWorkerState.Starting,
    };

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var replication = services.GetService<ITaskReplication>();
        if (replication is null)
        {
            _notConfigured = true;
            logger.LogWarning("no replication engine is registered in this build: tasks are recorded but not replicated");
            return;
        }
        await using var supervisor = new ReplicationSupervisor(Owner, views, store, leases, replication, clock, logger,
            new SupervisorOptions(Tick * 3, TimeSpan.FromSeconds(30)),
            forget: async (taskId, ct) =>
            {
                metrics.ForgetTask(taskId);
                await reports.RemoveAsync(taskId, ct);
            });
        Supervisor = supervisor;
        var position = await feed.HighWaterMarkAsync(stoppingToken);
        await supervisor.StartAsync(stoppingToken);
        _started = true;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await feed.WaitForEventsAsync(position, Tick, stoppingToken);
                position = Math.Max(position, await feed.HighWaterMarkAsync(stoppingToken));
                await supervisor.ReconcileAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "reconciling the replications failed; retrying in {Tick}", Tick);
                await Task.Delay(Tick, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }
}
