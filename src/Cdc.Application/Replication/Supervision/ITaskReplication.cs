using Cdc.Application.Tasks;
using Cdc.Domain.Tasks;

namespace Cdc.Application.Replication.Supervision;

/// <summary>
/// What a task's replication starts from: its definition (secrets still protected) and its checkpoints, which
/// server process runs it (<paramref name="Owner"/>, its lease owner), and what the previous run last reported.
/// </summary>
public sealed record TaskRunContext(
    string TaskId,
    TaskDefinition Definition,
    IReadOnlyList<ChannelPosition> Checkpoints,
    string Owner = "",
    TaskRuntimeReport? LastRun = null)
{
    /// <summary>The previous run did not stop cleanly (its server died): it may have sent data past its checkpoints.</summary>
    public bool AfterUncleanStop => LastRun is { StoppedAt: null };
}

/// <summary>
/// The replication of one task: runs until cancelled (pause, delete, lease lost, shutdown). Transient failures are
/// retried inside; a failure it cannot get through ends the run with <see cref="ReplicationHalted"/>, and the
/// supervisor then pauses the task with that reason.
/// </summary>
public interface ITaskReplication
{
    Task RunAsync(TaskRunContext context, CancellationToken cancellationToken);
}
