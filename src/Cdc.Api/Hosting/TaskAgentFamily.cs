using Cdc.Application.EventStore;
using Cdc.Application.Metrics;
using Cdc.Application.Replication.Supervision;
using Cdc.Application.Tasks;
using Cdc.Domain.Tasks;
using JasperFx;
using Wolverine.Runtime;
using Wolverine.Runtime.Agents;

namespace Cdc.Api.Hosting;

/// <summary>
/// The tasks as Wolverine agents: every Running task of this server's tenant is one agent
/// (<c>cdc-task://task/{id}</c>), and Wolverine's leader spreads them evenly over the live servers of the cluster,
/// moves those of a server that stopped or died to the others, and stops the agents of tasks that are no longer
/// Running. Each agent is a <see cref="SupervisedTaskRun"/>, whose lease keeps two servers from ever running one task
/// at once while the assignment changes.
/// </summary>
public sealed class TaskAgentFamily(ReplicationHost host, ITaskViews views, ICachedTaskViews cachedViews, IServiceProvider services) : IAgentFamily
{
    public const string AgentScheme = "cdc-task";

    public string Scheme => AgentScheme;

    public static Uri UriFor(string taskId) => new($"{AgentScheme}://task/{Uri.EscapeDataString(taskId)}");

    public static string TaskIdOf(Uri uri) => Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));

    public async ValueTask<IReadOnlyList<Uri>> AllKnownAgentsAsync()
    {
        // Nothing runs here before the start-up step (disable_auto_start) is done.
        if (host.Replication is null || host.State != ReplicationWorkerState.Running) return [];
        // From memory while nothing changed (the leader asks every second; from the database this read every task's
        // view, runtime report and positions each time). A list a moment old is harmless: a run checks its task's state
        // in the database before it starts, and a pause stops its agent through the task events.
        var tasks = await cachedViews.ListAsync(CancellationToken.None);
        return tasks.Where(t => t.State == TaskState.Running).Select(t => UriFor(t.TaskId)).ToList();
    }

    public ValueTask<IAgent> BuildAgentAsync(Uri uri, IWolverineRuntime wolverineRuntime)
    {
        if (host.Replication is null) throw new InvalidAgentException($"{uri}: this server has no replication engine");
        var run = new SupervisedTaskRun(TaskIdOf(uri), host.Owner,
            services.GetRequiredService<TaskStreams>(), services.GetRequiredService<ITaskLeases>(), host.Replication, views,
            services.GetRequiredService<TimeProvider>(), services.GetRequiredService<ILogger<SupervisedTaskRun>>(),
            pacer: services.GetRequiredService<TaskStartPacer>());
        return new ValueTask<IAgent>(new TaskAgent(uri, run, host, views, services.GetRequiredService<ICdcMetrics>()));
    }

    public ValueTask<IReadOnlyList<Uri>> SupportedAgentsAsync() => AllKnownAgentsAsync();

    public ValueTask EvaluateAssignmentsAsync(AssignmentGrid assignments)
    {
        assignments.DistributeEvenly(Scheme);
        return ValueTask.CompletedTask;
    }

    /// <summary>One task's run as a Wolverine agent.</summary>
    private sealed class TaskAgent(Uri uri, SupervisedTaskRun run, ReplicationHost host, ITaskViews views, ICdcMetrics metrics) : IAgent
    {
        public Uri Uri => uri;

        public AgentStatus Status { get; private set; } = AgentStatus.Stopped;

        public string Description => $"the replication of task {run.TaskId}";

        public Task StartAsync(CancellationToken cancellationToken)
        {
            host.Started(run);
            run.Start();
            Status = AgentStatus.Running;
            return Task.CompletedTask;
        }

        public async Task StopAsync(CancellationToken cancellationToken)
        {
            await run.DisposeAsync();
            host.Stopped(run);
            Status = AgentStatus.Stopped;
            // A deleted task's series go with it (its runtime report is deleted with its events).
            if (await views.GetAsync(run.TaskId, CancellationToken.None) is null) metrics.ForgetTask(run.TaskId);
        }
    }
}
