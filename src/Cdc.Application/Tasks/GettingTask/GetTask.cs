using Cdc.Domain.Tasks;
using FluentValidation;
using MediatR;

namespace Cdc.Application.Tasks.GettingTask;

/// <summary>One task as the projection holds it.</summary>
public sealed record GetTask(string? TaskId) : IRequest<TaskView>;

public sealed class GetTaskValidator : AbstractValidator<GetTask>
{
    public GetTaskValidator() => TaskIdRule.Require(this, (GetTask r) => r.TaskId);
}

public sealed class GetTaskHandler(ICachedTaskViews views) : IRequestHandler<GetTask, TaskView>
{
    public async Task<TaskView> Handle(GetTask request, CancellationToken cancellationToken) =>
        await views.GetAsync(request.TaskId!, cancellationToken)
        ?? throw new TaskRuleViolation(TaskRule.NotFound, $"not found: [{request.TaskId}]");
}
