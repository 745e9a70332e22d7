using FluentValidation;

namespace Cdc.Application.Tasks;

/// <summary>The shared rule of the requests that name an existing task.</summary>
public static class TaskIdRule
{
    public static void Require<T>(AbstractValidator<T> validator, Func<T, string?> taskId)
    {
        validator.RuleFor(r => taskId(r)).NotEmpty().OverridePropertyName("task_id").WithMessage("task_id is empty");
    }
}
