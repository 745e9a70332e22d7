using Cdc.Application.EventStore;
using Cdc.Domain.Events;
using Cdc.Domain.Tasks;

namespace Cdc.Application.Tasks;

/// <summary>Loads a task aggregate from its stream and appends what it decided.</summary>
public sealed class TaskStreams(IEventStore store)
{
    public async Task<CdcTask> LoadAsync(string taskId, CancellationToken cancellationToken)
    {
        var stream = await store.FetchStreamAsync(taskId, cancellationToken);
        return CdcTask.Replay(taskId, stream.Events.Select(e => e.Data).OfType<ITaskEvent>());
    }

    /// <summary>Loads an existing task or throws the reference's "not found" violation.</summary>
    public async Task<CdcTask> LoadExistingAsync(string taskId, CancellationToken cancellationToken)
    {
        var task = await LoadAsync(taskId, cancellationToken);
        return task.Exists ? task : throw TaskRuleViolation.NotFound(taskId);
    }

    public Task<long> AppendAsync(CdcTask task, ITaskEvent decided, CancellationToken cancellationToken) =>
        store.AppendAsync(
            new StreamAppend(task.Id, StreamTypes.Task, task.Version, [decided]),
            cancellationToken);
}
