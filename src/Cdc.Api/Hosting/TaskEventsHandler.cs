using Cdc.Domain.Events;
using Cdc.Infrastructure.EventStore;
using JasperFx.Events;
using Wolverine;
using Wolverine.Runtime;

namespace Cdc.Api.Hosting;

/// <summary>Stop the agent of a task that was paused or deleted, on whichever server of the cluster runs it.</summary>
public sealed record StopTaskAgent(string TaskId);

/// <summary>
/// Task events as Marten's subscription hands them to Wolverine, in order: a pause or a delete stops the task's agent
/// at once on whichever server runs it (<see cref="StopTaskAgent"/>, forwarded to that server); a create or resume asks
/// for the assignment to be evaluated now (<see cref="AssignmentEvaluation"/>, which folds a burst into one). Wolverine's leader also evaluates it every second, and a supervised run
/// checks its task's state before it starts, so nothing depends on this handler being on time. Events of other
/// tenants, which share the database, are not this cluster's.
/// </summary>
public static class TaskEventsHandler
{
    public static StopTaskAgent? Handle(IEvent<TaskPaused> e, EventStoreOptions options) => Stop(e, options);

    public static StopTaskAgent? Handle(IEvent<TaskDeleted> e, EventStoreOptions options) => Stop(e, options);

    public static void Handle(IEvent<TaskResumed> e, AssignmentEvaluation evaluation, EventStoreOptions options) => Evaluate(e, evaluation, options);

    public static void Handle(IEvent<TaskCreated> e, AssignmentEvaluation evaluation, EventStoreOptions options) => Evaluate(e, evaluation, options);

    public static async Task Handle(StopTaskAgent stop, IMessageContext context, CancellationToken cancellationToken)
    {
        var uri = TaskAgentFamily.UriFor(stop.TaskId);
        await context.InvokeOnAgentOrForwardAsync(uri, (runtime, _) => runtime.Agents.StopLocallyAsync(uri), cancellationToken);
    }

    private static StopTaskAgent? Stop<T>(IEvent<T> e, EventStoreOptions options) where T : notnull, ITaskEvent =>
        e.TenantId == options.Tenant ? new StopTaskAgent(e.Data.TaskId) : null;

    private static void Evaluate<T>(IEvent<T> e, AssignmentEvaluation evaluation, EventStoreOptions options) where T : notnull
    {
        if (e.TenantId == options.Tenant) evaluation.Request();
    }
}
