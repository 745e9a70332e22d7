using Cdc.Application.Tasks;
using Cdc.Domain.Events;
using Cdc.Domain.Tasks;
using JasperFx.Events;
using Marten;
using Marten.Events.Aggregation;
using Marten.Events.Projections;

namespace Cdc.Infrastructure.EventStore;

/// <summary>
/// The task read model behind get and list (inline: it commits with the events). Credentials are stripped here, so no
/// query over the documents can ever return them; positions and the runtime report are joined when read.
/// </summary>
public sealed class TaskViewProjection : SingleStreamProjection<TaskView, string>
{
    public TaskViewProjection()
    {
        IncludeType<TaskCreated>();
        IncludeType<TaskPaused>();
        IncludeType<TaskResumed>();
        IncludeType<TaskDeleted>();
    }

    public override TaskView? Evolve(TaskView? snapshot, string id, IEvent e) => (snapshot, e.Data) switch
    {
        (_, TaskCreated c) => new TaskView(c.TaskId, c.Definition.Target with { Username = null, Password = null, Token = null },
            c.Definition.Selection, c.Definition.RpcChannel, c.Definition.DisableAutoStart, TaskState.Running, null, [],
            c.CreatedAt, c.CreatedAt, e.Version)
        {
            NameMappings = c.Definition.NameMappings,
            Start = c.Definition.Start,
            ApplyMode = c.Definition.ApplyMode,
        },
        ({ } v, TaskPaused p) => v with { State = TaskState.Paused, Reason = p.Reason, UpdatedAt = p.PausedAt, Version = e.Version },
        ({ } v, TaskResumed r) => v with { State = TaskState.Running, Reason = null, UpdatedAt = r.ResumedAt, Version = e.Version },
        (_, TaskDeleted) => null,
        _ => snapshot,
    };
}

/// <summary>The latest checkpoint of each (task, channel) stream (inline).</summary>
public sealed class ChannelPositionProjection : SingleStreamProjection<ChannelPositionDocument, string>
{
    public ChannelPositionProjection() => IncludeType<ChannelCheckpointed>();

    public override ChannelPositionDocument? Evolve(ChannelPositionDocument? snapshot, string id, IEvent e) => e.Data is ChannelCheckpointed c
        ? new ChannelPositionDocument(id, c.TaskId, c.Channel, c.Position, c.Timestamp, c.CheckpointedAt)
        : snapshot;
}

/// <summary>When a task is deleted, its checkpoint positions and runtime report go with it (inline).</summary>
public sealed partial class TaskDeletionProjection : EventProjection
{
    public TaskDeletionProjection() => IncludeType<TaskDeleted>();

    public override ValueTask ApplyAsync(IDocumentOperations operations, IEvent e, CancellationToken cancellation)
    {
        if (e.Data is TaskDeleted deleted)
        {
            operations.DeleteWhere<ChannelPositionDocument>(p => p.TaskId == deleted.TaskId);
            operations.Delete<TaskRuntimeDocument>(deleted.TaskId);
        }

        return ValueTask.CompletedTask;
    }
}
