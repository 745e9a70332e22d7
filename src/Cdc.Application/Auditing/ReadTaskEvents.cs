using Cdc.Application.EventStore;
using Cdc.Domain.Tasks;
using FluentValidation;
using MediatR;

namespace Cdc.Application.Auditing;

/// <summary>The event stream of one task, deleted tasks included, in order.</summary>
public sealed record ReadTaskEvents(string? TaskId) : IRequest<IReadOnlyList<AuditEntry>>;

public sealed class ReadTaskEventsValidator : AbstractValidator<ReadTaskEvents>
{
    public ReadTaskEventsValidator() => Tasks.TaskIdRule.Require(this, (ReadTaskEvents r) => r.TaskId);
}

public sealed class ReadTaskEventsHandler(IEventStore store) : IRequestHandler<ReadTaskEvents, IReadOnlyList<AuditEntry>>
{
    public async Task<IReadOnlyList<AuditEntry>> Handle(ReadTaskEvents request, CancellationToken cancellationToken)
    {
        var stream = await store.FetchStreamAsync(request.TaskId!, cancellationToken);
        if (!stream.Exists) throw TaskRuleViolation.NotFound(request.TaskId!);
        return stream.Events.Select(AuditEntry.From).ToList();
    }
}
