using FluentValidation;

namespace Cdc.Application.Tasks;

/// <summary>
/// The shared rule of the requests that name an existing task: an id is given, and it has the shape every task id
/// has (generated, or chosen at create under the same rule), so that no other text reaches the event store.
/// </summary>
public static class TaskIdRule
{
    public static void Require<T>(AbstractValidator<T> validator, Func<T, string?> taskId)
    {
        validator.RuleFor(r => taskId(r)).Cascade(CascadeMode.Stop)
            .NotEmpty().OverridePropertyName("task_id").WithMessage("task_id is empty")
            .Must(Domain.Tasks.TaskId.IsWellFormed).OverridePropertyName("task_id")
            .WithMessage($"no task has this id: a task id is 1 to {Domain.Tasks.TaskId.MaxLength} letters, digits, '-' or '_'");
    }
}
