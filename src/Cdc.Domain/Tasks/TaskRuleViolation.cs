namespace Cdc.Domain.Tasks;

public enum TaskRule
{
    NotFound,
    AlreadyPaused,
    AlreadyRunning,
}

/// <summary>A command that the task's current state does not allow. The message is the reference server's text.</summary>
public sealed class TaskRuleViolation(TaskRule rule, string message) : Exception(message)
{
    public TaskRule Rule { get; } = rule;

    public static TaskRuleViolation NotFound(string taskId) => new(TaskRule.NotFound, $"not found the task, task_id: {taskId}");
}
