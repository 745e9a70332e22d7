using Cdc.Application.EventStore;
using Cdc.Domain.Events;
using Cdc.Domain.Tasks;

namespace Cdc.Application.Tasks;

/// <summary>A task's lifecycle as its projection holds it: written in the transaction of each task event.</summary>
public sealed record TaskLifecycle(TaskState State, string? Reason, long Version);

/// <summary>Reads a task's lifecycle from the task projection (one row, however long the task's history).</summary>
public interface ITaskLifecycles
{
    /// <summary>Null when the task does not exist (never created, or deleted).</summary>
    Task<TaskLifecycle?> GetLifecycleAsync(string taskId, CancellationToken cancellationToken);
}

/// <summary>Loads a task aggregate and appends what it decided.</summary>
public sealed class TaskStreams(IEventStore store, ITaskLifecycles lifecycles)
{
    /// <summary>The task replayed from its whole stream: with its definition, and whether it was deleted.</summary>
    public async Task<CdcTask> LoadAsync(string taskId, CancellationToken cancellationToken)
    {
        var stream = await store.FetchStreamAsync(taskId, cancellationToken);
        return CdcTask.Replay(taskId, stream.Events.Select(e => e.Data).OfType<ITaskEvent>());
    }

    /// <summary>
    /// The task's state, reason and version from its projection, without its definition: what pause, resume, delete and
    /// a run's checks decide on. The projection commits with the events, so its version is the stream's, and an append
    /// decided on it is checked against the stream as any other. A task that does not exist comes back as one that was
    /// never created.
    /// </summary>
    public async Task<CdcTask> LoadStateAsync(string taskId, CancellationToken cancellationToken) =>
        await lifecycles.GetLifecycleAsync(taskId, cancellationToken) is { } l
            ? CdcTask.Restore(taskId, l.State, l.Reason, l.Version)
            : CdcTask.Replay(taskId, []);

    /// <summary>The task's state (<see cref="LoadStateAsync"/>) or the reference's "not found" violation.</summary>
    public async Task<CdcTask> LoadExistingAsync(string taskId, CancellationToken cancellationToken)
    {
        var task = await LoadStateAsync(taskId, cancellationToken);
        return task.Exists ? task : throw TaskRuleViolation.NotFound(taskId);
    }

    public Task<long> AppendAsync(CdcTask task, ITaskEvent decided, CancellationToken cancellationToken) =>
        store.AppendAsync(
            new StreamAppend(task.Id, StreamTypes.Task, task.Version, [decided]),
            cancellationToken);
}
