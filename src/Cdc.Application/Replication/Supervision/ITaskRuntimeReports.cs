using Cdc.Application.Tasks;

namespace Cdc.Application.Replication.Supervision;

/// <summary>
/// Where a running replication leaves its last error and recovery for get and list, so that every server answers
/// the same whichever one runs the task. Not events: a retried failure is not a decision about the task.
/// </summary>
public interface ITaskRuntimeReports
{
    /// <summary>Replaces the task's report.</summary>
    Task ReportAsync(string taskId, TaskRuntimeReport report, CancellationToken cancellationToken);

    /// <summary>Forgets the task's report (the task was deleted).</summary>
    Task RemoveAsync(string taskId, CancellationToken cancellationToken);
}
