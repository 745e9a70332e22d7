using Cdc.Application.EventStore;
using FluentValidation;
using MediatR;

namespace Cdc.Application.Auditing;

/// <summary>The tenant's global event feed after a sequence number, at most <see cref="Limit"/> events.</summary>
public sealed record ReadEventFeed(long After, int Limit) : IRequest<EventFeedPage>
{
    public const int MaxLimit = 1000;
}

/// <summary>A page of the feed: continue with <see cref="Next"/> as the next <c>after</c>.</summary>
public sealed record EventFeedPage(IReadOnlyList<AuditEntry> Events, long Next, long HighWaterMark);

public sealed class ReadEventFeedValidator : AbstractValidator<ReadEventFeed>
{
    public ReadEventFeedValidator()
    {
        RuleFor(r => r.After).GreaterThanOrEqualTo(0).OverridePropertyName("after").WithMessage("must be 0 or more");
        RuleFor(r => r.Limit).InclusiveBetween(1, ReadEventFeed.MaxLimit)
            .OverridePropertyName("limit").WithMessage($"must be between 1 and {ReadEventFeed.MaxLimit}");
    }
}

public sealed class ReadEventFeedHandler(IEventFeed feed) : IRequestHandler<ReadEventFeed, EventFeedPage>
{
    public async Task<EventFeedPage> Handle(ReadEventFeed request, CancellationToken cancellationToken)
    {
        var hwm = await feed.HighWaterMarkAsync(cancellationToken);
        var events = await feed.ReadAsync(request.After, request.Limit, cancellationToken);
        var next = events.Count > 0 ? events[^1].Sequence : request.After;
        return new EventFeedPage(events.Select(AuditEntry.From).ToList(), next, Math.Max(hwm, next));
    }
}
