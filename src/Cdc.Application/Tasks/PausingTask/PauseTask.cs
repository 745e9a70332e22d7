using Cdc.Domain.Events;
using FluentValidation;
using MediatR;

namespace Cdc.Application.Tasks.PausingTask;

/// <summary>Pause a running task; the reason defaults to the reference's text for an HTTP pause.</summary>
public sealed record PauseTask(string? TaskId, string Reason = TaskPaused.ManualReason) : IRequest<Unit>;

public sealed class PauseTaskValidator : AbstractValidator<PauseTask>
{
    public PauseTaskValidator() => TaskIdRule.Require(this, (PauseTask r) => r.TaskId);
}

public sealed class PauseTaskHandler(TaskStreams streams, TimeProvider clock) : IRequestHandler<PauseTask, Unit>
{
    public async Task<Unit> Handle(PauseTask request, CancellationToken cancellationToken)
    {
        var task = await streams.LoadExistingAsync(request.TaskId!, cancellationToken);
        await streams.AppendAsync(task, task.Pause(request.Reason, clock.GetUtcNow()), cancellationToken);
        return Unit.Value;
    }
}
