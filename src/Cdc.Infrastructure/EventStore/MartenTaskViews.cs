using Cdc.Application.Tasks;
using Marten;

namespace Cdc.Infrastructure.EventStore;

/// <summary>
/// Queries over the task projection, joined with the latest channel positions and the runtime report; and a task's
/// lifecycle alone, for the commands.
/// </summary>
public sealed class MartenTaskViews(IDocumentStore store, EventStoreOptions options) : ITaskViews, ITaskLifecycles
{
    public async Task<TaskLifecycle?> GetLifecycleAsync(string taskId, CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession(options.Tenant);
        return await session.LoadAsync<TaskView>(taskId, cancellationToken) is { } view
            ? new TaskLifecycle(view.State, view.Reason, view.Version)
            : null;
    }

    // Each answer is one round trip: Marten's batched query sends the three reads as one command.
    public async Task<TaskView?> GetAsync(string taskId, CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession(options.Tenant);
        var batch = session.CreateBatchQuery();
        var view = batch.Load<TaskView>(taskId);
        var positions = batch.Query<ChannelPositionDocument>().Where(p => p.TaskId == taskId).ToList();
        var runtime = batch.Load<TaskRuntimeDocument>(taskId);
        await batch.Execute(cancellationToken);
        return await view is { } found ? Compose(found, await positions, await runtime) : null;
    }

    public async Task<IReadOnlyList<TaskView>> ListAsync(CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession(options.Tenant);
        var batch = session.CreateBatchQuery();
        var views = batch.Query<TaskView>().ToList();
        var positions = batch.Query<ChannelPositionDocument>().ToList();
        var runtimes = batch.Query<TaskRuntimeDocument>().ToList();
        await batch.Execute(cancellationToken);
        return Join((await views).OrderBy(v => v.CreatedAt).ThenBy(v => v.TaskId, StringComparer.Ordinal), await positions, await runtimes);
    }

    /// <summary>The tasks of these ids that exist, in no particular order; one round trip.</summary>
    public async Task<IReadOnlyList<TaskView>> GetManyAsync(IReadOnlyCollection<string> taskIds, CancellationToken cancellationToken)
    {
        var ids = taskIds.ToArray();
        await using var session = store.QuerySession(options.Tenant);
        var batch = session.CreateBatchQuery();
        var views = batch.LoadMany<TaskView>().ById(ids);
        var positions = batch.Query<ChannelPositionDocument>().Where(p => p.TaskId.IsOneOf(ids)).ToList();
        var runtimes = batch.LoadMany<TaskRuntimeDocument>().ById(ids);
        await batch.Execute(cancellationToken);
        return Join(await views, await positions, await runtimes);
    }

    /// <summary>Each view, in the order given, with its own positions and runtime report.</summary>
    private static List<TaskView> Join(IEnumerable<TaskView> views, IEnumerable<ChannelPositionDocument> positions, IEnumerable<TaskRuntimeDocument> runtimes)
    {
        var byTask = positions.ToLookup(p => p.TaskId, StringComparer.Ordinal);
        var runtimeOf = runtimes.ToDictionary(r => r.Id, StringComparer.Ordinal);
        return views.Select(v => Compose(v, byTask[v.TaskId], runtimeOf.GetValueOrDefault(v.TaskId))).ToList();
    }

    private static TaskView Compose(TaskView view, IEnumerable<ChannelPositionDocument> positions, TaskRuntimeDocument? runtime) =>
        view with
        {
            Positions = positions.OrderBy(p => p.Channel, StringComparer.Ordinal).Select(p => p.ToView()).ToList(),
            Runtime = runtime?.ToReport(),
        };
}
