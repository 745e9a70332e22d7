using MediatR;

namespace Cdc.Application.Tasks.ListingTasks;

/// <summary>Every task of this server's tenant, oldest first.</summary>
public sealed record ListTasks : IRequest<IReadOnlyList<TaskView>>;

public sealed class ListTasksHandler(ICachedTaskViews views) : IRequestHandler<ListTasks, IReadOnlyList<TaskView>>
{
    public Task<IReadOnlyList<TaskView>> Handle(ListTasks request, CancellationToken cancellationToken) =>
        views.ListAsync(cancellationToken);
}
