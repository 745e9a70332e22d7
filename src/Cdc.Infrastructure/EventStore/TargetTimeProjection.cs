using Cdc.Domain.Events;
using JasperFx.Events;
using Marten;
using Marten.Events.Aggregation;
using Marten.Events.Projections;

namespace Cdc.Infrastructure.EventStore;

/// <summary>The latest time reservation of one target pchannel of a task.</summary>
/// <param name="Id">The reservation stream's id, <c>{task id}/target/{target channel}</c>.</param>
/// <param name="Timestamp">Nothing above it was sent on the channel; the next run sends above it.</param>
/// <param name="Sent">The highest timestamp sent when it was written (equal to <paramref name="Timestamp"/> after a clean stop).</param>
public sealed record TargetTimeDocument(string Id, string TaskId, string TargetChannel, ulong Timestamp, ulong Sent, DateTimeOffset ReservedAt);

/// <summary>
/// The latest reservation of each (task, target channel) stream (inline): the snapshot a trim of the stream folds its
/// older events into, so the newest reservation survives every trim.
/// </summary>
public sealed class TargetTimeProjection : SingleStreamProjection<TargetTimeDocument, string>
{
    public TargetTimeProjection() => IncludeType<TargetTimeReserved>();

    public override TargetTimeDocument? Evolve(TargetTimeDocument? snapshot, string id, IEvent e) => e.Data is TargetTimeReserved r
        ? new TargetTimeDocument(id, r.TaskId, r.TargetChannel, r.Timestamp, r.Sent, r.ReservedAt)
        : snapshot;
}

/// <summary>When a task is deleted, the latest reservations of its target channels go with it (inline).</summary>
public sealed class TargetTimeDeletionProjection : EventProjection
{
    public TargetTimeDeletionProjection() => IncludeType<TaskDeleted>();

    public override ValueTask ApplyAsync(IDocumentOperations operations, IEvent e, CancellationToken cancellation)
    {
        if (e.Data is TaskDeleted deleted) operations.DeleteWhere<TargetTimeDocument>(t => t.TaskId == deleted.TaskId);
        return ValueTask.CompletedTask;
    }
}
