using Cdc.Domain.Events;

namespace Cdc.Domain.Tasks;

/// <summary>
/// The task aggregate: rebuilt from its stream, it decides which events a command produces and refuses the
/// commands its state does not allow. It holds the desired state; the replication worker reconciles to it.
/// </summary>
public sealed class CdcTask
{
    private CdcTask(string id) => Id = id;

    public string Id { get; }
    public TaskDefinition? Definition { get; private set; }
    public TaskState State { get; private set; } = TaskState.Initial;
    public string? Reason { get; private set; }
    public bool IsDeleted { get; private set; }

    /// <summary>The number of events applied: the expected version of the next append.</summary>
    public long Version { get; private set; }

    public bool Exists => _created && !IsDeleted;

    private bool _created;

    public static CdcTask Replay(string id, IEnumerable<ITaskEvent> history)
    {
        var task = new CdcTask(id);
        foreach (var e in history) task.Apply(e);
        return task;
    }

    /// <summary>
    /// An existing task from a snapshot of its lifecycle (state, reason, version) rather than its whole history: enough
    /// for the commands that decide on the state alone (pause, resume, delete). Its <see cref="Definition"/> is not
    /// loaded (null).
    /// </summary>
    public static CdcTask Restore(string id, TaskState state, string? reason, long version)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(version, 1);
        return new CdcTask(id) { _created = true, State = state, Reason = reason, Version = version };
    }

    public static TaskCreated Create(TaskId id, TaskDefinition definition, DateTimeOffset now) =>
        new(id.Value, definition, now);

    public TaskPaused Pause(string reason, DateTimeOffset now)
    {
        EnsureExists();
        if (State == TaskState.Paused)
            throw new TaskRuleViolation(TaskRule.AlreadyPaused, $"the task has paused, task_id: {Id}");
        return new TaskPaused(Id, reason, now);
    }

    public TaskResumed Resume(DateTimeOffset now)
    {
        EnsureExists();
        if (State == TaskState.Running)
            throw new TaskRuleViolation(TaskRule.AlreadyRunning, $"the task has running, task_id: {Id}");
        return new TaskResumed(Id, now);
    }

    public TaskDeleted Delete(DateTimeOffset now)
    {
        EnsureExists();
        return new TaskDeleted(Id, now);
    }

    public void Apply(ITaskEvent e)
    {
        switch (e)
        {
            case TaskCreated c:
                _created = true;
                Definition = c.Definition;
                State = TaskState.Running;
                break;
            case TaskPaused p:
                State = TaskState.Paused;
                Reason = p.Reason;
                break;
            case TaskResumed:
                State = TaskState.Running;
                Reason = null;
                break;
            case TaskDeleted:
                IsDeleted = true;
                break;
        }
        Version++;
    }

    private void EnsureExists()
    {
        if (!Exists) throw TaskRuleViolation.NotFound(Id);
    }
}
