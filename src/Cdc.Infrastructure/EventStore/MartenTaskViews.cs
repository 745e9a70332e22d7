using Cdc.Application.Tasks;
using Marten;

namespace Cdc.Infrastructure.EventStore;

/// <summary>Queries over the task projection, joined with the latest channel positions and the runtime report.</summary>
public sealed class MartenTaskViews(IDocumentStore store, EventStoreOptions options) : ITaskViews
{
    public async Task<TaskView?> GetAsync(string taskId, CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession(options.Tenant);
        var view = await session.LoadAsync<TaskView>(taskId, cancellationToken);
        if (view is null) return null;
        var positions = await session.Query<ChannelPositionDocument>().Where(p => p.TaskId == taskId).ToListAsync(cancellationToken);
        var runtime = await session.LoadAsync<TaskRuntimeDocument>(taskId, cancellationToken);
        return Compose(view, positions, runtime);
    }

    public async Task<IReadOnlyList<TaskView>> ListAsync(CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession(options.Tenant);
        var views = await session.Query<TaskView>().ToListAsync(cancellationToken);
        if (views.Count == 0) return [];
        var positions = (await session.Query<ChannelPositionDocument>().ToListAsync(cancellationToken)).ToLookup(p => p.TaskId, StringComparer.Ordinal);
        var runtimes = (await session.Query<TaskRuntimeDocument>().ToListAsync(cancellationToken)).ToDictionary(r => r.Id, StringComparer.Ordinal);
        return views.OrderBy(v => v.CreatedAt).ThenBy(v => v.TaskId, StringComparer.Ordinal)
            .Select(v => Compose(v, positions[v.TaskId], runtimes.GetValueOrDefault(v.TaskId)))
            .ToList();
    }

    private static TaskView Compose(TaskView view, IEnumerable<ChannelPositionDocument> positions, TaskRuntimeDocument? runtime) =>
        view with
        {
            Positions = positions.OrderBy(p => p.Channel, StringComparer.Ordinal).Select(p => p.ToView()).ToList(),
            Runtime = runtime?.ToReport(),
        };
}
