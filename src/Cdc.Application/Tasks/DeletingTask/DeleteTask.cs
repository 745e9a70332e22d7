using Cdc.Domain.Tasks;
using FluentValidation;
using MediatR;

namespace Cdc.Application.Tasks.DeletingTask;

/// <summary>Delete a task; with <see cref="IgnoreNotFound"/> an unknown id is not an error.</summary>
public sealed record DeleteTask(string? TaskId, bool IgnoreNotFound = false) : IRequest<Unit>;

public sealed class DeleteTaskValidator : AbstractValidator<DeleteTask>
{
    public DeleteTaskValidator() => TaskIdRule.Require(this, (DeleteTask r) => r.TaskId);
}

public sealed class DeleteTaskHandler(TaskStreams streams, TimeProvider clock) : IRequestHandler<DeleteTask, Unit>
{
    public async Task<Unit> Handle(DeleteTask request, CancellationToken cancellationToken)
    {
        var task = await streams.LoadStateAsync(request.TaskId!, cancellationToken);
        if (!task.Exists)
            return request.IgnoreNotFound ? Unit.Value : throw TaskRuleViolation.NotFound(request.TaskId!);
        await streams.AppendAsync(task, task.Delete(clock.GetUtcNow()), cancellationToken);
        return Unit.Value;
    }
}
