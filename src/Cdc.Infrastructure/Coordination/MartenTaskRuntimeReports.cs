using Cdc.Application.Replication.Supervision;
using Cdc.Application.Tasks;
using Cdc.Infrastructure.EventStore;
using Marten;

namespace Cdc.Infrastructure.Coordination;

/// <summary>The runtime reports of tasks, one Marten document per task, read with the task views.</summary>
public sealed class MartenTaskRuntimeReports(IDocumentStore store, EventStoreOptions options) : ITaskRuntimeReports
{
    public async Task ReportAsync(string taskId, TaskRuntimeReport report, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(report);
        await using var session = store.LightweightSession(options.Tenant);
        session.Store(TaskRuntimeDocument.From(taskId, report));
        await session.SaveChangesAsync(cancellationToken);
    }

    public async Task RemoveAsync(string taskId, CancellationToken cancellationToken)
    {
        await using var session = store.LightweightSession(options.Tenant);
        session.Delete<TaskRuntimeDocument>(taskId);
        await session.SaveChangesAsync(cancellationToken);
    }
}
