using System.Text.Json;
using Cdc.Application.EventStore;
using Cdc.Application.Tasks;
using Cdc.Domain.Events;
using Npgsql;
using NpgsqlTypes;

namespace Cdc.Infrastructure.EventStore.Projections;

/// <summary>
/// The task read model behind get and list: one row per live task holding its <see cref="TaskView"/>. Credentials
/// are stripped here, so no query over this table can ever return them.
/// </summary>
public sealed class TaskViewProjection(EventStoreOptions options) : IInlineProjection
{
    private readonly string _s = EventStoreSchema.Quote(options.Schema);

    public string Name => "task_views";

    public async Task ApplyAsync(NpgsqlConnection connection, string tenant, RecordedEvent e, CancellationToken cancellationToken)
    {
        switch (e.Data)
        {
            case TaskCreated c:
                var target = c.Definition.Target with { Username = null, Password = null, Token = null };
                var view = new TaskView(c.TaskId, target, c.Definition.Selection, c.Definition.RpcChannel,
                    c.Definition.DisableAutoStart, Domain.Tasks.TaskState.Running, null, [], c.CreatedAt, c.CreatedAt, e.Version);
                await using (var cmd = new NpgsqlCommand($"""
                    insert into {_s}.task_views (tenant_id, task_id, view, created) values ($1, $2, $3, $4)
                    on conflict (tenant_id, task_id) do update set view = excluded.view, created = excluded.created
                    """, connection))
                {
                    cmd.Parameters.AddWithValue(tenant);
                    cmd.Parameters.AddWithValue(c.TaskId);
                    cmd.Parameters.Add(Json(view));
                    cmd.Parameters.AddWithValue(c.CreatedAt);
                    await cmd.ExecuteNonQueryAsync(cancellationToken);
                }
                break;
            case TaskPaused p:
                await UpdateAsync(connection, tenant, p.TaskId, v => v with { State = Domain.Tasks.TaskState.Paused, Reason = p.Reason, UpdatedAt = p.PausedAt, Version = e.Version }, cancellationToken);
                break;
            case TaskResumed r:
                await UpdateAsync(connection, tenant, r.TaskId, v => v with { State = Domain.Tasks.TaskState.Running, Reason = null, UpdatedAt = r.ResumedAt, Version = e.Version }, cancellationToken);
                break;
            case TaskDeleted d:
                await ProjectionRows.DeleteAsync(connection, $"{_s}.task_views", tenant, d.TaskId, cancellationToken);
                break;
        }
    }

    public Task ClearAsync(NpgsqlConnection connection, string tenant, CancellationToken cancellationToken) =>
        ProjectionRows.DeleteAsync(connection, $"{_s}.task_views", tenant, null, cancellationToken);

    private async Task UpdateAsync(NpgsqlConnection connection, string tenant, string taskId, Func<TaskView, TaskView> change, CancellationToken cancellationToken)
    {
        TaskView? view;
        await using (var read = new NpgsqlCommand($"select view::text from {_s}.task_views where tenant_id = $1 and task_id = $2", connection))
        {
            read.Parameters.AddWithValue(tenant);
            read.Parameters.AddWithValue(taskId);
            view = await read.ExecuteScalarAsync(cancellationToken) is string json ? Deserialize(json) : null;
        }
        if (view is null) return;
        await using var write = new NpgsqlCommand($"update {_s}.task_views set view = $3 where tenant_id = $1 and task_id = $2", connection);
        write.Parameters.AddWithValue(tenant);
        write.Parameters.AddWithValue(taskId);
        write.Parameters.Add(Json(change(view)));
        await write.ExecuteNonQueryAsync(cancellationToken);
    }

    internal static TaskView Deserialize(string json) =>
        JsonSerializer.Deserialize<TaskView>(json, EventTypes.SerializerOptions)!;

    private static NpgsqlParameter Json(TaskView view) =>
        new() { Value = JsonSerializer.Serialize(view, EventTypes.SerializerOptions), NpgsqlDbType = NpgsqlDbType.Jsonb };
}
