using FluentValidation;
using MediatR;

namespace Cdc.Application.Tasks.ResumingTask;

/// <summary>Resume a paused task from its checkpoints.</summary>
public sealed record ResumeTask(string? TaskId) : IRequest<Unit>;

public sealed class ResumeTaskValidator : AbstractValidator<ResumeTask>
{
    public ResumeTaskValidator() => TaskIdRule.Require(this, (ResumeTask r) => r.TaskId);
}

public sealed class ResumeTaskHandler(TaskStreams streams, TimeProvider clock) : IRequestHandler<ResumeTask, Unit>
{
    public async Task<Unit> Handle(ResumeTask request, CancellationToken cancellationToken)
    {
        var task = await streams.LoadExistingAsync(request.TaskId!, cancellationToken);
        await streams.AppendAsync(task, task.Resume(clock.GetUtcNow()), cancellationToken);
        return Unit.Value;
    }
}
